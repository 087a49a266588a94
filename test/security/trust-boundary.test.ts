// The edge as an attacker meets it, against the whole system as real processes in production mode:
// forged caller identities on every port (the old default secret, a guessed one, none), a captured
// signature replayed for another request, a stale one; scanners still calling redemption directly;
// /metrics behind its token; oversized bodies whose 413 every client reads; and requests Node's own
// HTTP parser refuses, answered as problem+json with a request id.
import net from 'node:net';
import { type SignedCaller, signInternalRequest } from '@cruise/shared';
import { createTestContext, type ServiceName, type TestContext } from '@cruise/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  SERVICE_NAMES,
  type System,
  startSystem,
  visitDate,
} from '../resilience/system.ts';

let ctx: TestContext;
let system: System;
let db: pg.Pool;
let partner: Partner;
let reservationId: string;
let device: { device_id: string; device_key: string };

beforeAll(async () => {
  ctx = await createTestContext();
  system = await startSystem({
    databaseUrl: ctx.env.DATABASE_URL!,
    redisUrl: ctx.env.REDIS_URL!,
    natsUrl: ctx.env.NATS_URL!,
    prefix: ctx.id,
    // Four processes loading at once on a busy machine can take longer than the default minute.
    readyTimeoutMs: 150_000,
    env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  db = new pg.Pool({ connectionString: ctx.env.DATABASE_URL, max: 2 });
  const op = operator(system);
  partner = await op.createPartner('Edge partner', 100_000);
  await op.allocate(partner.partner_id, 106, 'ota', 50);
  const held = expectStatus(
    await call('POST', `${system.gateway}/api/ota/reservations`, {
      token: partner.api_key,
      body: { product_id: 106, visit_date: visitDate(2), items: [{ customer_type: 'adult', quantity: 1 }] },
    }),
    201,
    'reserve',
  );
  reservationId = held.reservation_id;
  device = await op.createDevice('Edge pier', 'Gate E');
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await db?.end();
  await ctx?.cleanup();
}, 60_000);

async function deviceCount(): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM redemption.devices');
  return rows[0]!.n;
}

/** What an attacker who reaches a port tries: the identity headers, with some proof or none. */
function forgeries(method: string, path: string, caller: SignedCaller): [string, Record<string, string>][] {
  const callerHeaders: Record<string, string> =
    caller.kind === 'partner'
      ? { 'x-caller-kind': 'partner', 'x-partner-id': caller.partnerId }
      : { 'x-caller-kind': 'admin' };
  const signedWith = (key: string) =>
    signInternalRequest(key, { method, url: path, requestId: 'forged-1', caller });
  return [
    ['the old default token', { ...callerHeaders, 'x-internal-token': 'dev-internal-token' }],
    ['a signature keyed by the old default token', signedWith('dev-internal-token')],
    ['a guessed token', { ...callerHeaders, 'x-internal-token': 'internal-token-0123456789abcdef' }],
    ['a signature keyed by a guessed secret', signedWith('change-me-internal-token-0123456789')],
    ['no token at all', callerHeaders],
  ];
}

describe('forged caller identities', () => {
  const attacks: {
    what: string;
    method: string;
    path: string;
    caller: () => SignedCaller;
    body?: unknown;
  }[] = [
    {
      what: 'create a device as the operator',
      method: 'POST',
      path: '/api/admin/devices',
      caller: () => ({ kind: 'admin' }),
      body: { venue: 'Evil pier', name: 'Evil gate' },
    },
    {
      what: "read another partner's reservations",
      method: 'GET',
      path: '/api/ota/reservations',
      caller: () => ({ kind: 'partner', partnerId: partner.partner_id }),
    },
    {
      what: "read another partner's tickets",
      method: 'GET',
      path: '/api/ota/tickets',
      caller: () => ({ kind: 'partner', partnerId: partner.partner_id }),
    },
  ];

  it('refuses forged identity headers on every service port with 401, and nothing changes', async () => {
    const devicesBefore = await deviceCount();
    for (const name of SERVICE_NAMES) {
      for (const attack of attacks) {
        for (const [how, headers] of forgeries(attack.method, attack.path, attack.caller())) {
          const res = await call(attack.method, `${system.url(name)}${attack.path}`, {
            headers,
            ...(attack.body ? { body: attack.body } : {}),
          });
          const label = `${name} :${system.ports[name]} ${attack.what} with ${how}`;
          expect(res.status, label).toBe(401);
          expect(res.headers.get('content-type'), label).toContain('application/problem+json');
          expect(res.body.code, label).toBe('UNAUTHORIZED');
          // The forged identity never shows up in an answer.
          expect(res.text, label).not.toContain(reservationId);
        }
      }
    }
    expect(await deviceCount()).toBe(devicesBefore);
  });

  it('refuses forged identity headers even on public routes of the services', async () => {
    for (const name of ['redemption', 'inventory', 'issuance'] as ServiceName[]) {
      for (const [how, headers] of forgeries('GET', '/healthz', { kind: 'admin' })) {
        const res = await call('GET', `${system.url(name)}/healthz`, { headers });
        expect(res.status, `${name} /healthz with ${how}`).toBe(401);
      }
    }
    // The gateway is the edge: it ignores caller headers (its callers prove themselves with credentials).
    for (const [, headers] of forgeries('GET', '/healthz', { kind: 'admin' })) {
      expect((await call('GET', `${system.gateway}/healthz`, { headers })).status).toBe(200);
    }
  });

  it('a captured signature proves nothing for another method or path, nor once stale', async () => {
    const secret = system.secrets.internalToken;
    const caller: SignedCaller = { kind: 'partner', partnerId: partner.partner_id };
    const inventory = system.url('inventory');
    // Reading one reservation is issuance's route (it adds the tickets); cancelling and listing are inventory's.
    const issuance = system.url('issuance');
    const captured = signInternalRequest(secret, {
      method: 'GET',
      url: `/api/ota/reservations/${reservationId}`,
      requestId: 'captured-1',
      caller,
    });
    // The control: the header set works for the request it was made for.
    const original = await call('GET', `${issuance}/api/ota/reservations/${reservationId}`, {
      headers: captured,
    });
    expect(original.status).toBe(200);
    expect(original.body.reservation_id).toBe(reservationId);

    const replays: [string, string][] = [
      ['POST', `${inventory}/api/ota/reservations/${reservationId}/cancel`],
      ['GET', `${inventory}/api/ota/reservations`],
      ['GET', `${issuance}/api/ota/reservations/${reservationId}?x=1`],
    ];
    for (const [method, url] of replays) {
      const res = await call(method, url, { headers: captured });
      expect(res.status, `${method} ${url}`).toBe(401);
    }
    // Another caller under the same signature.
    const asAdmin = await call('GET', `${issuance}/api/ota/reservations/${reservationId}`, {
      headers: { ...captured, 'x-caller-kind': 'admin' },
    });
    expect(asAdmin.status).toBe(401);
    const otherPartner = await call('GET', `${issuance}/api/ota/reservations/${reservationId}`, {
      headers: { ...captured, 'x-partner-id': '00000000-0000-4000-8000-000000000000' },
    });
    expect(otherPartner.status).toBe(401);

    // A header set older than the window (61 s) is refused, even for its own request.
    const stale = signInternalRequest(
      secret,
      { method: 'GET', url: `/api/ota/reservations/${reservationId}`, requestId: 'stale-1', caller },
      Date.now() - 61_000,
    );
    const late = await call('GET', `${issuance}/api/ota/reservations/${reservationId}`, { headers: stale });
    expect(late.status).toBe(401);
    // The cancel never happened.
    const { rows } = await db.query('SELECT status FROM inventory.reservations WHERE id = $1', [
      reservationId,
    ]);
    expect(rows[0]).toEqual({ status: 'ON_HOLD' });
  });

  it('scanners still call redemption directly with their device key', async () => {
    const redemption = system.url('redemption');
    const scan = await call('POST', `${redemption}/venue/redeem`, {
      token: device.device_key,
      body: { qr_token: 'not-a-token', function_code: 'FERRY' },
    });
    // Authenticated (not 401): the token itself is what is refused.
    expect(scan.status).toBe(422);
    expect(scan.body.code).toBe('INVALID_QR');
    const badKey = await call('POST', `${redemption}/venue/redeem`, {
      token: `${device.device_key}x`,
      body: { qr_token: 'not-a-token', function_code: 'FERRY' },
    });
    expect(badKey.status).toBe(401);
    const info = await call('GET', `${redemption}/qr/${'A'.repeat(20)}/info`);
    expect(info.status).toBe(404);
  });
});

describe('/metrics', () => {
  it('answers only with the metrics token, on every port', async () => {
    for (const name of SERVICE_NAMES) {
      const url = `${system.url(name)}/metrics`;
      const anonymous = await call('GET', url);
      expect(anonymous.status, name).toBe(401);
      expect(anonymous.headers.get('content-type'), name).toContain('application/problem+json');
      expect((await call('GET', url, { token: system.secrets.adminToken })).status, name).toBe(401);
      const ok = await call('GET', url, { token: system.secrets.metricsToken });
      expect(ok.status, name).toBe(200);
      expect(ok.text, name).toContain('http_request_duration_seconds');
    }
  });
});

describe('oversized bodies', () => {
  it('answers 50 oversized requests (2 MB and 5 MB) with a 413 every client reads', async () => {
    const sizes = [2 * 1024 * 1024, 5 * 1024 * 1024];
    const bodies = sizes.map((n) => JSON.stringify({ product_id: 106, padding: 'x'.repeat(n) }));
    const outcomes: string[] = [];
    // Five at a time, through the gateway and straight to a service.
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        Array.from({ length: 5 }, async (_, i) => {
          const n = round * 5 + i;
          const target =
            n % 3 === 0
              ? `${system.url('redemption')}/venue/redeem`
              : `${system.gateway}/api/ota/reservations`;
          const token = n % 3 === 0 ? device.device_key : partner.api_key;
          try {
            const res = await fetch(target, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: bodies[n % 2],
            });
            const body = (await res.json()) as { code?: string; request_id?: string };
            return `${res.status} ${body.code} ${body.request_id === res.headers.get('x-request-id')}`;
          } catch (err) {
            const cause = (err as { cause?: { code?: string } }).cause;
            return `network error ${cause?.code ?? (err as Error).message}`;
          }
        }),
      );
      outcomes.push(...results);
    }
    expect(outcomes).toHaveLength(50);
    expect(outcomes.filter((o) => o !== '413 PAYLOAD_TOO_LARGE true')).toEqual([]);
  });
});

/** Writes raw bytes to a port and reads until the server closes (or 10 s pass). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (d) => {
      reply += d.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

function parseRaw(reply: string) {
  const [head = '', body = ''] = reply.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  let json: { code?: string; status?: number; request_id?: string } = {};
  try {
    json = JSON.parse(body);
  } catch {
    // asserted below
  }
  return { status: Number(statusLine.split(' ')[1]), headers, json };
}

describe("requests Node's HTTP parser refuses", () => {
  const cases: [string, string, number, string][] = [
    [
      'a bare LF in the headers',
      'GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n',
      400,
      'VALIDATION_FAILED',
    ],
    [
      'headers over the size limit',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'REQUEST_HEADERS_TOO_LARGE',
    ],
    [
      'Content-Length together with Transfer-Encoding',
      'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'VALIDATION_FAILED',
    ],
  ];
  it.each(cases)(
    'answers %s as problem+json with a request id, on every port',
    async (_, bytes, status, code) => {
      for (const name of SERVICE_NAMES) {
        const res = parseRaw(await raw(system.ports[name], bytes));
        expect(res.status, name).toBe(status);
        expect(res.headers['content-type'], name).toBe('application/problem+json');
        expect(res.headers['x-request-id'], name).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.json.code, name).toBe(code);
        expect(res.json.status, name).toBe(status);
        expect(res.json.request_id, name).toBe(res.headers['x-request-id']);
      }
    },
  );
});
