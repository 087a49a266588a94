// Hostile input through the gateway, with all four services as real processes: a fast-check pass over
// every route of the public catalogue (`allRoutes`: path params, query and body), and targeted attacks
// (oversized bodies, a slow client, forged and replayed webhooks, QR tokens signed with another key,
// forged credentials, another partner's ids everywhere). Nothing may answer 5xx; every error is
// problem+json with a contract code; and a rejected request changes nothing.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { paymentSignatureV1 } from '@cruise/client';
import { allRoutes, base32, ERROR_STATUS, type RouteDef } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import fc from 'fast-check';
import type { Pool } from 'pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  type HttpResult,
  operator,
  type Partner,
  pay,
  type System,
  signWebhook,
  startSystem,
  visitDate,
} from '../resilience/system.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Replays a failing run: fast-check prints the seed of a counterexample. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let ctx: TestContext;
let system: System;
let db: Pool;

interface PartnerWorld {
  partner: Partner;
  heldReservation: { reservation_id: string; total: { amount: number; currency: string } };
  confirmedReservationId: string;
  ticketCodes: string[];
  resellerId: string;
  batchId: string;
}
let A: PartnerWorld;
let B: PartnerWorld;
/** A partner only the operator routes are fuzzed against (suspending it or revoking its key harms no one). */
let C: { partner: Partner; keyId: string };
let device: { device_id: string; device_key: string };
let spareDevice: { device_id: string; device_key: string };

async function partnerWorld(name: string): Promise<PartnerWorld> {
  const op = operator(system);
  const partner = await op.createPartner(name, 100_000);
  await op.allocate(partner.partner_id, 106, 'ota', 200);
  await op.allocate(partner.partner_id, 106, 'reseller', 100);
  const reserve = async (quantity: number) =>
    expectStatus(
      await call('POST', `${system.gateway}/api/ota/reservations`, {
        token: partner.api_key,
        body: { product_id: 106, visit_date: visitDate(2), items: [{ customer_type: 'adult', quantity }] },
      }),
      201,
      'reserve',
    );
  const held = await reserve(1);
  const toPay = await reserve(3);
  const paid = expectStatus(await pay(system, toPay, `pay-${randomBytes(4).toString('hex')}`), 200, 'pay');
  const reseller = expectStatus(
    await call('POST', `${system.gateway}/api/ota/resellers`, {
      token: partner.api_key,
      body: { name: `${name} reseller` },
    }),
    201,
    'reseller',
  );
  const batch = expectStatus(
    await call('POST', `${system.gateway}/api/ota/tickets/bulk-generate`, {
      token: partner.api_key,
      body: { product_id: 106, quantity: 5, reseller_id: reseller.reseller_id },
    }),
    202,
    'batch',
  );
  return {
    partner,
    heldReservation: held,
    confirmedReservationId: toPay.reservation_id,
    ticketCodes: paid.tickets.map((t: { ticket_code: string }) => t.ticket_code),
    resellerId: reseller.reseller_id,
    batchId: batch.batch_id,
  };
}

/** A digest of every business table: any change a request makes to the system's state shows here. */
async function fingerprint(): Promise<string> {
  const { rows } = await db.query<{ fp: string }>(`
    SELECT md5(string_agg(part, '|' ORDER BY part)) AS fp FROM (
      SELECT 'pools' || string_agg(id || ':' || allocated || ':' || held || ':' || sold, ',' ORDER BY id) AS part FROM inventory.pools
      UNION ALL SELECT 'ledger' || count(*) FROM inventory.inventory_ledger
      UNION ALL SELECT 'res' || coalesce(string_agg(id || status, ',' ORDER BY id), '') FROM inventory.reservations
      UNION ALL SELECT 'tickets' || count(*) || ':' || coalesce(sum(revision), 0)
                       || coalesce(md5(string_agg(ticket_code || status, ',' ORDER BY id)), '') FROM issuance.tickets
      UNION ALL SELECT 'batches' || coalesce(string_agg(batch_id || status || generated, ',' ORDER BY batch_id), '') FROM issuance.batches
      UNION ALL SELECT 'payments' || coalesce(string_agg(payment_id || outcome, ',' ORDER BY payment_id), '') FROM issuance.payments
      UNION ALL SELECT 'resellers' || coalesce(string_agg(reseller_id || status || name || coalesce(region, '')
                       || coalesce(commission_rate::text, '') || coalesce(contact_email, ''), ',' ORDER BY reseller_id), '') FROM issuance.resellers
      UNION ALL SELECT 'partners' || coalesce(string_agg(id || status::text || name || coalesce(rate_limit_per_minute, 0), ',' ORDER BY id), '') FROM gateway.partners
      UNION ALL SELECT 'keys' || coalesce(string_agg(id || coalesce(revoked_at::text, ''), ',' ORDER BY id), '') FROM gateway.api_keys
      UNION ALL SELECT 'devices' || coalesce(string_agg(device_id || coalesce(revoked_at::text, ''), ',' ORDER BY device_id), '') FROM redemption.devices
      UNION ALL SELECT 'redemptions' || count(*) FROM redemption.redemptions
    ) t`);
  return rows[0]!.fp;
}

/** Waits until background work set off by an accepted request (batch generation, releases) has finished. */
async function settle(): Promise<void> {
  let previous = await fingerprint();
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 150));
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM issuance.batches WHERE status IN ('QUEUED', 'RUNNING')`,
    );
    const now = await fingerprint();
    if (now === previous && rows[0]!.n === 0) return;
    previous = now;
  }
}

/** `/octo/*` answers errors in OCTO's shape (contract, "OCTO"): `{ error, errorMessage, … }`. */
function octoErrorIssues(res: HttpResult): string[] {
  const issues: string[] = [];
  if (res.status >= 500) issues.push(`status ${res.status}`);
  if (res.status >= 400) {
    const body = res.body as { error?: unknown; errorMessage?: unknown } | undefined;
    if (!res.headers.get('content-type')?.includes('application/json')) {
      issues.push(`content-type ${res.headers.get('content-type')}`);
    }
    if (!body || typeof body.error !== 'string' || !/^[A-Z_]+$/.test(body.error)) {
      issues.push(`no OCTO error code: ${res.text.slice(0, 200)}`);
    } else if (typeof body.errorMessage !== 'string') {
      issues.push(`OCTO error without errorMessage: ${res.text.slice(0, 200)}`);
    }
  }
  return issues;
}

function problemIssues(res: HttpResult, path = ''): string[] {
  if (path.startsWith('/octo/') || path === '/octo') return octoErrorIssues(res);
  const issues: string[] = [];
  if (res.status >= 500) issues.push(`status ${res.status}`);
  if (res.status >= 400) {
    if (!res.headers.get('content-type')?.includes('application/problem+json')) {
      issues.push(`content-type ${res.headers.get('content-type')}`);
    }
    const body = res.body as { code?: string; status?: number } | undefined;
    if (!body || typeof body !== 'object' || !body.code || !(body.code in ERROR_STATUS)) {
      issues.push(`no contract code: ${res.text.slice(0, 200)}`);
    } else if (
      ERROR_STATUS[body.code as keyof typeof ERROR_STATUS] !== res.status ||
      body.status !== res.status
    ) {
      issues.push(`code ${body.code} with status ${res.status}`);
    }
  }
  return issues;
}

beforeAll(async () => {
  ctx = await createTestContext();
  system = await startSystem({
    databaseUrl: ctx.env.DATABASE_URL!,
    redisUrl: ctx.env.REDIS_URL!,
    natsUrl: ctx.env.NATS_URL!,
    prefix: ctx.id,
    // Every route of the catalogue is fuzzed, the webhook and event feed routes included.
    withNotifications: true,
    readyTimeoutMs: 180_000,
    // The per-IP budgets would otherwise turn most forged-credential requests into 429s.
    env: {
      PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
      FAILED_AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      DEVICE_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  db = new pg.Pool({ connectionString: ctx.env.DATABASE_URL, max: 2 });
  A = await partnerWorld('Fuzz A');
  B = await partnerWorld('Fuzz B');
  const op = operator(system);
  const cPartner = await op.createPartner('Fuzz C', 1_000);
  const key = expectStatus(
    await call('POST', `${system.gateway}/api/admin/partners/${cPartner.partner_id}/api-keys`, {
      token: system.secrets.adminToken,
    }),
    201,
    'api key',
  );
  C = { partner: cPartner, keyId: key.key_id };
  device = await op.createDevice('Fuzz pier', 'Gate F');
  spareDevice = await op.createDevice('Fuzz pier', 'Gate S');
  await settle();
}, 400_000);

afterAll(async () => {
  await system?.stop();
  await db?.end();
  await ctx?.cleanup();
}, 60_000);

/** Sends a request and asserts the contract for rejections: problem+json, a known code, no effect. */
async function hostile(
  method: string,
  path: string,
  opts: Parameters<typeof call>[2] = {},
  // biome-ignore lint/suspicious/noExplicitAny: bodies are inspected loosely
): Promise<HttpResult<any> & { issues: string[] }> {
  const before = await fingerprint();
  const res = await call(method, `${system.gateway}${path}`, opts);
  const issues = problemIssues(res, path);
  if (res.status >= 400) {
    const after = await fingerprint();
    if (after !== before) issues.push('a rejected request changed the state');
  } else {
    await settle();
  }
  return { ...res, issues };
}

describe('targeted attacks', () => {
  it('refuses oversized bodies with 413, changing nothing', async () => {
    const big = JSON.stringify({ product_id: 106, items: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    for (const path of [
      '/api/ota/reservations',
      '/payments/notify',
      '/venue/redeem',
      '/api/admin/partners',
    ]) {
      const token = path.startsWith('/api/ota')
        ? A.partner.api_key
        : path === '/venue/redeem'
          ? device.device_key
          : system.secrets.adminToken;
      const res = await hostile('POST', path, {
        token,
        rawBody: big,
        headers:
          path === '/payments/notify'
            ? { 'x-payment-signature': signWebhook(system.secrets.webhookSecret, big) }
            : {},
      });
      expect(res.status, path).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.issues).toEqual([]);
    }
  });

  it('drops a client whose headers never finish (headers timeout), and keeps serving others', async () => {
    const port = Number(new URL(system.gateway).port);
    const outcome = await new Promise<{ closed: boolean; reply: string }>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      let reply = '';
      socket.on('data', (d) => {
        reply += d.toString();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve({ closed: true, reply }));
      socket.on('connect', () => {
        socket.write(
          `POST /api/ota/reservations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${A.partner.api_key}\r\n`,
        );
      });
      // Far beyond the server's 10 s headers timeout: reaching it means the server never hung up.
      setTimeout(() => {
        socket.destroy();
        resolve({ closed: false, reply });
      }, 40_000);
    });
    expect(outcome.closed).toBe(true);
    if (outcome.reply) expect(outcome.reply).toMatch(/^HTTP\/1\.1 408/);
    const ok = await call('GET', `${system.gateway}/api/ota/inventory`, { token: A.partner.api_key });
    expect(ok.status).toBe(200);
  }, 60_000);

  it('refuses forged, tampered, stale and malformed webhook signatures with 401 INVALID_SIGNATURE', async () => {
    const raw = JSON.stringify({
      payment_id: `pay-forged-${randomBytes(4).toString('hex')}`,
      reservation_id: A.heldReservation.reservation_id,
      status: 'SUCCEEDED',
      amount: A.heldReservation.total,
      paid_at: new Date().toISOString(),
    });
    const tampered = raw.replace('"SUCCEEDED"', '"SUCCEEDED" ');
    // Signed when sent: a timestamp taken at the start would drift into the window while the others run.
    const variants: Record<string, (now: number) => string | undefined> = {
      missing: () => undefined,
      'another secret': (now) => signWebhook('another-secret-entirely-1234', raw, now),
      'signature of another body': (now) => signWebhook(system.secrets.webhookSecret, tampered, now),
      'stale (301 s old)': (now) => signWebhook(system.secrets.webhookSecret, raw, now - 301),
      'from the future (310 s)': (now) => signWebhook(system.secrets.webhookSecret, raw, now + 310),
      'no t': (now) => `v1=${paymentSignatureV1(system.secrets.webhookSecret, raw, now)}`,
      'no v1': (now) => `t=${now}`,
      garbage: () => 'garbage',
      'empty v1': (now) => `t=${now},v1=`,
      'non-hex v1': (now) => `t=${now},v1=${'z'.repeat(64)}`,
      'truncated v1': (now) => signWebhook(system.secrets.webhookSecret, raw, now).slice(0, -10),
      'huge t': () => `t=${'9'.repeat(400)},v1=00`,
    };
    for (const [name, sign] of Object.entries(variants)) {
      const signature = sign(Math.floor(Date.now() / 1000));
      const res = await hostile('POST', '/payments/notify', {
        rawBody: raw,
        headers: signature === undefined ? {} : { 'x-payment-signature': signature },
      });
      expect(res.status, name).toBe(401);
      expect(res.body.code, name).toBe('INVALID_SIGNATURE');
      expect(res.issues, name).toEqual([]);
    }
    const reservation = await call(
      'GET',
      `${system.gateway}/api/ota/reservations/${A.heldReservation.reservation_id}`,
      {
        token: A.partner.api_key,
      },
    );
    expect(reservation.body.status).toBe('ON_HOLD');
  });

  it('answers a replayed webhook with the original response and never issues twice', async () => {
    const r = expectStatus(
      await call('POST', `${system.gateway}/api/ota/reservations`, {
        token: A.partner.api_key,
        body: { product_id: 106, visit_date: visitDate(2), items: [{ customer_type: 'adult', quantity: 2 }] },
      }),
      201,
      'reserve',
    );
    const raw = JSON.stringify({
      payment_id: `pay-replay-${randomBytes(4).toString('hex')}`,
      reservation_id: r.reservation_id,
      status: 'SUCCEEDED',
      amount: r.total,
      paid_at: new Date().toISOString(),
    });
    const headers = { 'x-payment-signature': signWebhook(system.secrets.webhookSecret, raw) };
    const first = await call('POST', `${system.gateway}/payments/notify`, { rawBody: raw, headers });
    expect(first.status).toBe(200);
    await settle();
    const replays = await Promise.all(
      Array.from({ length: 5 }, () => hostile('POST', '/payments/notify', { rawBody: raw, headers })),
    );
    for (const replay of replays) {
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(first.body);
    }
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM issuance.tickets WHERE reservation_id = $1',
      [r.reservation_id],
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('refuses QR tokens signed with another key or tampered with, and honours the real one', async () => {
    const code = A.ticketCodes[0]!;
    const real = expectStatus(
      await call('POST', `${system.gateway}/qr/${code}`, { token: A.partner.api_key }),
      200,
      'qr',
    );
    const forge = (key: string, version: number) => {
      const expiresAt = Math.floor(Date.now() / 1000) + 600;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(version, 0);
      header.writeUInt32BE(expiresAt, 4);
      const mac = createHmac('sha256', key)
        .update('cruise-qr-token-v1')
        .update('\0')
        .update(code)
        .update('\0')
        .update(header)
        .digest()
        .subarray(0, 16);
      return `T1.${code}.${base32(Buffer.concat([header, mac]))}`;
    };
    const token: string = real.qr_token;
    const last = token.at(-1)!;
    const forged = [
      ...[1, 2, 3, 50].map((v) => forge('another-signing-key-0123456789abcdef', v)),
      `${token.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`,
      token.replace(code, B.ticketCodes[0]!),
      'T1.',
      'not-a-token',
      `${token}${token}`,
    ];
    for (const qr of forged) {
      const res = await hostile('POST', '/venue/redeem', {
        token: device.device_key,
        body: { qr_token: qr, function_code: 'FERRY', nonce: `forged-${randomBytes(4).toString('hex')}` },
      });
      expect(res.status, qr).toBe(422);
      expect(res.body.code, qr).toBe('INVALID_QR');
      expect(res.issues, qr).toEqual([]);
    }
    const accepted = await call('POST', `${system.gateway}/venue/redeem`, {
      token: device.device_key,
      body: { qr_token: token, function_code: 'FERRY' },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.result).toBe('ACCEPTED');
    // The redemption reaches issuance as an event a moment later: let it land before the next test
    // fingerprints the state, or that test sees this change as its own.
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query<{ redeemed: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(entitlements) e
                         WHERE e->>'function_code' = 'FERRY' AND e->>'redeemed_at' IS NOT NULL) AS redeemed
           FROM issuance.tickets WHERE ticket_code = $1`,
        [code],
      );
      if (rows[0]?.redeemed) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await settle();
  });

  it('refuses forged, revoked and misplaced credentials with 401', async () => {
    const revoked = await operator(system).createDevice('Fuzz pier', 'Revoked gate');
    expectStatus(
      await call('DELETE', `${system.gateway}/api/admin/devices/${revoked.device_id}`, {
        token: system.secrets.adminToken,
      }),
      204,
      'revoke device',
    );
    const cases: [string, string, Parameters<typeof call>[2]][] = [
      ['GET', '/api/ota/inventory', {}],
      ['GET', '/api/ota/inventory', { token: `${A.partner.api_key}x` }],
      ['GET', '/api/ota/inventory', { token: system.secrets.adminToken }],
      ['GET', '/api/ota/inventory', { token: device.device_key }],
      ['GET', '/api/ota/inventory', { headers: { 'x-api-key': 'ck_live_forged' } }],
      ['GET', '/api/admin/partners', { token: A.partner.api_key }],
      ['GET', '/api/admin/partners', { token: `${system.secrets.adminToken}!` }],
      ['POST', '/api/admin/devices', { token: 'dev-admin-token', body: { venue: 'v', name: 'n' } }],
      [
        'POST',
        '/venue/redeem',
        { token: A.partner.api_key, body: { ticket_code: A.ticketCodes[1], function_code: 'FERRY' } },
      ],
      [
        'POST',
        '/venue/redeem',
        { token: revoked.device_key, body: { ticket_code: A.ticketCodes[1], function_code: 'FERRY' } },
      ],
      [
        'GET',
        '/api/ota/inventory',
        {
          headers: {
            'x-internal-token': 'dev-internal-token',
            'x-caller-kind': 'admin',
            authorization: 'Bearer x',
          },
        },
      ],
    ];
    for (const [method, path, opts] of cases) {
      const res = await hostile(method, path, opts);
      expect([401, 403], `${method} ${path} ${JSON.stringify(opts)}`).toContain(res.status);
      expect(res.issues).toEqual([]);
    }
  });

  it("answers 404 for another partner's ids everywhere, and lists never show them", async () => {
    const token = A.partner.api_key;
    const theirs: [string, string, unknown?][] = [
      ['GET', `/api/ota/reservations/${B.heldReservation.reservation_id}`],
      ['POST', `/api/ota/reservations/${B.heldReservation.reservation_id}/cancel`],
      ['GET', `/api/ota/reservations/${B.confirmedReservationId}`],
      ['GET', `/api/ota/tickets/${B.ticketCodes[0]}`],
      ['POST', `/api/ota/tickets/${B.ticketCodes[0]}/cancel`],
      [
        'POST',
        `/api/ota/tickets/${B.ticketCodes[0]}/activate`,
        { customer_type: 'adult', customer: { name: 'Eve' } },
      ],
      ['GET', `/api/ota/batches/${B.batchId}`],
      ['GET', `/api/ota/batches/${B.batchId}/tickets.csv`],
      ['GET', `/api/ota/resellers/${B.resellerId}`],
      ['PATCH', `/api/ota/resellers/${B.resellerId}`, { name: 'Stolen' }],
      ['DELETE', `/api/ota/resellers/${B.resellerId}`],
      ['POST', `/qr/${B.ticketCodes[0]}`],
    ];
    for (const [method, path, body] of theirs) {
      const res = await hostile(method, path, { token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
      expect(res.issues).toEqual([]);
    }
    // Filters naming B's things return nothing of B's.
    for (const query of [
      `batch_id=${B.batchId}`,
      `reservation_id=${B.confirmedReservationId}`,
      `reseller_id=${B.resellerId}`,
    ]) {
      const res = await call('GET', `${system.gateway}/api/ota/tickets?${query}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    }
  });
});

describe('dates outside the contract calendar (1900-01-01 … 2999-12-31)', () => {
  // Each of these answered 500 (PostgreSQL 22008/22009) or, for the reservation, held units.
  const outOfRange = ['0000-01-01', '1899-12-31', '3000-01-01', '9999-12-31', '10000-01-01'];

  it('are 400 VALIDATION_FAILED on every report, list and reservation, changing nothing', async () => {
    const token = A.partner.api_key;
    const admin = system.secrets.adminToken;
    for (const bad of outOfRange) {
      const cases: [string, string, string, unknown?][] = [
        ['GET', `/api/ota/billing/summary?from=2026-01-01&to=${bad}`, token],
        ['GET', `/api/ota/billing/summary?from=${bad}&to=2026-01-01`, token],
        ['GET', `/api/ota/reports/reconciliation?from=2026-01-01&to=${bad}`, token],
        ['GET', `/api/ota/tickets?created_from=${bad}`, token],
        ['GET', `/api/ota/tickets?created_to=${bad}T00:00:00Z`, token],
        ['GET', `/api/admin/audit?from=${bad}`, admin],
        ['GET', `/api/admin/audit?to=${bad}T12:00:00.000Z`, admin],
        ['GET', `/api/ota/inventory?visit_date=${bad}`, token],
        [
          'POST',
          '/api/ota/reservations',
          token,
          { product_id: 106, visit_date: bad, items: [{ customer_type: 'adult', quantity: 1 }] },
        ],
      ];
      for (const [method, path, credential, body] of cases) {
        const res = await hostile(method, path, { token: credential, body });
        expect(res.status, `${method} ${path} ${JSON.stringify(body ?? '')}`).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(res.issues).toEqual([]);
      }
    }
  });

  it('still accepts the edges of the range', async () => {
    const token = A.partner.api_key;
    for (const path of [
      '/api/ota/billing/summary?from=1900-01-01&to=2999-12-31',
      '/api/ota/reports/reconciliation?from=1900-01-01&to=2999-12-31',
      '/api/ota/tickets?created_from=1900-01-01&created_to=2999-12-31T23:59:59Z',
    ]) {
      expect((await call('GET', `${system.gateway}${path}`, { token })).status, path).toBe(200);
    }
    const audit = await call('GET', `${system.gateway}/api/admin/audit?from=1900-01-01&to=2999-12-31`, {
      token: system.secrets.adminToken,
    });
    expect(audit.status).toBe(200);
  });
});

describe("another partner's reseller", () => {
  it('is refused in a bulk generation and in a reservation, so its name never appears on our tickets', async () => {
    const token = A.partner.api_key;
    const batch = await hostile('POST', '/api/ota/tickets/bulk-generate', {
      token,
      body: { product_id: 106, quantity: 1, reseller_id: B.resellerId },
    });
    expect(batch.status).toBe(404);
    expect(batch.issues).toEqual([]);

    const reservation = await hostile('POST', '/api/ota/reservations', {
      token,
      body: {
        product_id: 106,
        visit_date: visitDate(2),
        reseller_id: B.resellerId,
        items: [{ customer_type: 'adult', quantity: 1 }],
      },
    });
    let leaked: unknown = null;
    if (reservation.status === 201) {
      // Accepted: follow it through payment to show what the partner then sees on its ticket.
      const paid = await pay(system, reservation.body, `pay-leak-${randomBytes(4).toString('hex')}`);
      leaked = paid.body?.tickets?.[0]?.reseller ?? null;
    }
    expect(
      { status: reservation.status, reseller_on_our_ticket: leaked },
      "a reservation naming another partner's reseller must be refused (404), not stored on our tickets",
    ).toEqual({ status: 404, reseller_on_our_ticket: null });
  });
});

// ------------------------------------------------------------------ property-based pass

const hostileStrings = fc.constantFrom(
  '',
  ' ',
  '../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE issuance.tickets; --',
  '%00',
  '\u0000',
  '😀'.repeat(20),
  'A'.repeat(5000),
  '-1',
  '0',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '2026-02-30',
  '9999-99-99',
  // Dates PostgreSQL cannot store or the contract refuses (years 0000, 9999, 10000, …).
  '0000-01-01',
  '9999-12-31',
  '10000-01-01',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '10000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '1899-12-31',
  '3000-01-01',
  '2999-12-31T23:59:59-14:00',
  '1900-01-01T00:00:00+14:00',
  '00000000-0000-0000-0000-000000000000',
  '<script>alert(1)</script>',
);
const scalar = fc.oneof(
  hostileStrings,
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.uuid(),
);

function idCandidates(name: string): fc.Arbitrary<string> {
  const own: Record<string, string[]> = {
    reservation_id: [
      A.heldReservation.reservation_id,
      A.confirmedReservationId,
      B.heldReservation.reservation_id,
    ],
    ticket_code: [...A.ticketCodes, B.ticketCodes[0]!],
    batch_id: [A.batchId, B.batchId],
    reseller_id: [A.resellerId, B.resellerId],
    // Operator routes act on the sacrificial partner C and the spare device only.
    partner_id: [C.partner.partner_id],
    key_id: [C.keyId],
    device_id: [spareDevice.device_id],
  };
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(own[name] ?? [randomUUID()])) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: scalar },
  );
}

function shapeKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

const template = (route: RouteDef): Record<string, unknown> | undefined => {
  const date = visitDate(2);
  const byPath: Record<string, Record<string, unknown>> = {
    'POST /api/admin/partners': { name: 'Fuzz partner', rate_limit_per_minute: 100 },
    'PATCH /api/admin/partners/:partner_id': { rate_limit_per_minute: 50 },
    'PUT /api/admin/partners/:partner_id/allocations': { product_id: 107, channel: 'ota', allocated: 5 },
    'PUT /api/admin/direct/allocations': { product_id: 107, allocated: 5000 },
    'POST /api/ota/reservations': {
      product_id: 106,
      visit_date: date,
      items: [{ customer_type: 'adult', quantity: 1 }],
    },
    'POST /payments/notify': {
      payment_id: 'pay-fuzz',
      reservation_id: A.heldReservation.reservation_id,
      status: 'FAILED',
      amount: A.heldReservation.total,
      paid_at: new Date().toISOString(),
    },
    'POST /api/ota/tickets/:ticket_code/activate': { customer_type: 'adult', customer: { name: 'Fuzz' } },
    'POST /api/ota/tickets/bulk-generate': { product_id: 106, quantity: 1, reseller_id: A.resellerId },
    'POST /api/ota/resellers': { name: 'Fuzz reseller' },
    'PATCH /api/ota/resellers/:reseller_id': { region: 'Fuzz' },
    'POST /api/direct/orders': {
      product_id: 106,
      visit_date: date,
      items: [{ customer_type: 'adult', quantity: 1 }],
    },
    'POST /venue/redeem': { ticket_code: A.ticketCodes[2], function_code: 'PREMIUM_LOUNGE' },
    'POST /api/admin/devices': { venue: 'Fuzz', name: 'Fuzz gate' },
  };
  return byPath[`${route.method} ${route.path}`];
};

type Body = { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'none' };

function bodyArbitrary(route: RouteDef): fc.Arbitrary<Body> {
  const base = template(route);
  const keys = [...shapeKeys(route.body), ...Object.keys(base ?? {})];
  const options: fc.Arbitrary<Body>[] = [
    fc.jsonValue({ maxDepth: 3 }).map((value) => ({ kind: 'json', value }) as Body),
    fc
      .constantFrom('{', '{"a":', '[1,2', 'nul', '"\\ud800"', '{"__proto__":{"x":1}}', '\u0000')
      .map((text) => ({ kind: 'raw', text }) as Body),
    fc.constant({ kind: 'none' } as Body),
  ];
  if (keys.length) {
    options.push(
      fc
        .dictionary(
          fc.constantFrom(...keys, 'unknown_field'),
          fc.oneof(fc.jsonValue({ maxDepth: 2 }), scalar),
        )
        .map((value) => ({ kind: 'json', value }) as Body),
    );
  }
  if (base) {
    // Near-valid: the template with one field replaced by something hostile (or removed).
    options.push(
      fc
        .constantFrom(...Object.keys(base))
        .chain((k) =>
          fc.tuple(fc.constant(k), fc.option(fc.oneof(fc.jsonValue({ maxDepth: 2 }), valueFor(k)))),
        )
        .map(([key, v]) => {
          const value: Record<string, unknown> = { ...base };
          if (v === null) delete value[key];
          else value[key] = v;
          return { kind: 'json', value } as Body;
        }),
    );
  }
  return fc.oneof(...options);
}

/** Any date or date-time, mostly far outside the contract's calendar: years 0000 … 10000 and beyond. */
const extremeDate = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(0, 1, 999, 1899, 1900, 2999, 3000, 9999, 10000, 99999),
      fc.integer({ min: 1, max: 12 }),
    )
    .map(([y, m]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01`),
  fc
    .date({
      min: new Date(-8_000_000_000_000_000),
      max: new Date(8_000_000_000_000_000),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
);
/** Fields that take a date: the generators aim extreme dates at them. */
const DATE_FIELDS = /(^|_)(date|from|to|at)$/;
const valueFor = (key: string) => (DATE_FIELDS.test(key) ? fc.oneof(extremeDate, scalar) : scalar);

function queryArbitrary(route: RouteDef): fc.Arbitrary<string> {
  const keys = [...shapeKeys(route.querystring), 'unknown'];
  return fc
    .array(
      fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), valueFor(k))),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
}

function pathArbitrary(route: RouteDef): fc.Arbitrary<string> {
  const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  if (!names.length) return fc.constant(route.path);
  return fc.tuple(...names.map((n) => idCandidates(n))).map((values) => {
    let path = route.path;
    names.forEach((n, i) => {
      path = path.replace(`:${n}`, encodeURIComponent(values[i]!));
    });
    return path;
  });
}

type Credential = 'right' | 'none' | 'garbage' | 'other-partner';

function credentialHeaders(
  route: RouteDef,
  credential: Credential,
  rawBody: string | undefined,
): Record<string, string> {
  if (credential === 'none') return {};
  if (credential === 'garbage') return { authorization: `Bearer ${randomBytes(16).toString('hex')}` };
  if (credential === 'other-partner') return { authorization: `Bearer ${B.partner.api_key}` };
  switch (route.auth) {
    case 'partner':
    case 'partner-or-admin':
      return { authorization: `Bearer ${A.partner.api_key}` };
    case 'admin':
      return { authorization: `Bearer ${system.secrets.adminToken}` };
    case 'device':
      return { authorization: `Bearer ${device.device_key}` };
    case 'webhook':
      return { 'x-payment-signature': signWebhook(system.secrets.webhookSecret, rawBody ?? '') };
    default:
      return {};
  }
}

describe('property-based pass over every route of the catalogue', () => {
  it(`never answers 5xx, always problem+json on errors, and a rejected request changes nothing (${RUNS} runs)`, async () => {
    expect(allRoutes.length).toBeGreaterThan(30);
    const byKey = new Map(allRoutes.map((r) => [`${r.method} ${r.path}`, r]));
    const requestArb = fc.constantFrom(...byKey.keys()).chain((routeKey) => {
      const route = byKey.get(routeKey)!;
      return fc.record({
        route: fc.constant(routeKey),
        path: pathArbitrary(route),
        query: queryArbitrary(route),
        body:
          route.method === 'GET' || route.method === 'DELETE'
            ? fc.constant({ kind: 'none' } as Body)
            : bodyArbitrary(route),
        credential: fc.constantFrom<Credential>(
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'none',
          'garbage',
          'other-partner',
        ),
        // Mostly JSON, sometimes a type the services do not take, or none at all.
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
        ),
        idempotencyKey: fc.option(
          fc.string({ unit: fc.constantFrom(...'abcXYZ019-_:.'.split('')), minLength: 0, maxLength: 300 }),
        ),
      });
    });
    const seen = new Map<string, number[]>();
    await fc.assert(
      fc.asyncProperty(
        requestArb,
        async ({ route: routeKey, path, query, body, credential, contentType, idempotencyKey }) => {
          const route = byKey.get(routeKey)!;
          const rawBody =
            body.kind === 'json' ? JSON.stringify(body.value) : body.kind === 'raw' ? body.text : undefined;
          const res = await hostile(route.method, query ? `${path}?${query}` : path, {
            rawBody,
            headers: {
              ...credentialHeaders(route, credential, rawBody),
              ...(rawBody !== undefined && contentType ? { 'content-type': contentType } : {}),
              ...(idempotencyKey !== null ? { 'idempotency-key': idempotencyKey } : {}),
            },
          });
          const key = `${route.method} ${route.path}`;
          seen.set(key, [...(seen.get(key) ?? []), res.status]);
          if (res.issues.length) {
            throw new Error(
              `${route.method} ${path}?${query} (${credential}) → ${res.status}: ${res.issues.join('; ')}`,
            );
          }
        },
      ),
      {
        numRuns: RUNS,
        endOnFailure: true,
        includeErrorInReport: true,
        ...(SEED === undefined ? {} : { seed: SEED }),
      },
    );
    // The pass reached most of the catalogue (the route is drawn uniformly).
    expect(seen.size).toBeGreaterThan(allRoutes.length / 2);
  }, 240_000);
});
