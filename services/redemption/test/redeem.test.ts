// Redemption at the gate through the HTTP API, against real PostgreSQL and NATS: every acceptance
// and rejection of the contract, nonce retries, device keys, scans and the events that go out.
import { loadConfig, streamName, type TicketSnapshot } from '@cruise/shared';
import { createTestContext, type TestContext, walkByCursor } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeNonces } from '../src/domain/redeem.ts';
import { signQrToken } from '../src/domain/tokens.ts';
import {
  adminHeaders,
  createDevice,
  eventually,
  fakeIssuanceSnapshots,
  projectTickets,
  type Running,
  snapshot,
  startRedemption,
} from './support.ts';

let ctx: TestContext;
let r: Running;
let issuance: ReturnType<typeof fakeIssuanceSnapshots>;
let device: { device_id: string; device_key: string };

beforeAll(async () => {
  ctx = await createTestContext();
  r = await startRedemption(ctx.config);
  issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
  device = await createDevice(r.app, ctx.config);
});
afterAll(async () => {
  issuance?.stop();
  await r?.close();
  await ctx?.cleanup();
});

function scan(payload: Record<string, unknown>, key: string | null = device.device_key, app = r.app) {
  return app.inject({
    method: 'POST',
    url: '/venue/redeem',
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    payload,
  });
}

/** The operator's PATCH of a device (manual entry on or off). */
function patchDevice(deviceId: string, payload: { manual_entry: boolean }) {
  return r.app.inject({
    method: 'PATCH',
    url: `/api/admin/devices/${deviceId}`,
    headers: adminHeaders(ctx.config),
    payload,
  });
}

async function qrFor(ticketCode: string, app = r.app) {
  const res = await app.inject({
    method: 'POST',
    url: `/qr/${ticketCode}`,
    headers: adminHeaders(ctx.config),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { ticket_code: string; qr_token: string; expires_at: string; image: string };
}

/** A ticket that is in the projection (through a real event) and known to the issuance stand-in. */
async function ticket(overrides: Partial<TicketSnapshot> = {}) {
  const [t] = await projectTickets(r, ctx.config, [issuance.put(snapshot(overrides))]);
  return t!;
}

describe('accepted redemptions', () => {
  it('redeems each entitlement in turn until the ticket is USED, and publishes the events', async () => {
    const t = await ticket();
    const { qr_token } = await qrFor(t.ticket_code);
    expect(qr_token.length).toBeLessThan(80);

    const ferry = await scan({ qr_token, function_code: 'FERRY', session_code: 'SAILING-0930' });
    expect(ferry.statusCode, ferry.body).toBe(200);
    expect(ferry.json()).toMatchObject({
      result: 'ACCEPTED',
      ticket_code: t.ticket_code,
      function_code: 'FERRY',
      ticket_status: 'ACTIVE',
      remaining: ['LUNCH', 'SHOW'],
    });
    const lunch = await scan({ qr_token, function_code: 'LUNCH' });
    expect(lunch.json()).toMatchObject({ ticket_status: 'ACTIVE', remaining: ['SHOW'] });
    const show = await scan({ qr_token, function_code: 'SHOW' });
    expect(show.statusCode).toBe(200);
    expect(show.json()).toMatchObject({ ticket_status: 'USED', remaining: [] });

    const info = await r.app.inject(`/qr/${t.ticket_code}/info`);
    expect(info.json()).toEqual({
      ticket_code: t.ticket_code,
      status: 'USED',
      product_id: 106,
      product_name: 'Premium Cruise Package',
      entitlements: [
        { function_code: 'FERRY', redeemed_at: ferry.json().redeemed_at },
        { function_code: 'LUNCH', redeemed_at: lunch.json().redeemed_at },
        { function_code: 'SHOW', redeemed_at: show.json().redeemed_at },
      ],
      remaining: [],
    });
    // A USED ticket gets no new QR code.
    const again = await r.app.inject({
      method: 'POST',
      url: `/qr/${t.ticket_code}`,
      headers: adminHeaders(ctx.config),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: 'USED' });

    // The relay publishes ticketRedeemed ×3 and ticketUsed onto JetStream, where issuance reads them.
    const published = await eventually(async () => {
      const msgs = await redemptionEventsFor(t.ticket_code);
      return msgs.length >= 4 ? msgs : null;
    }, 'redemption events on the stream');
    expect(published.map((m) => m.subject)).toEqual([
      'events.redemption.tickets.redeemed',
      'events.redemption.tickets.redeemed',
      'events.redemption.tickets.redeemed',
      'events.redemption.tickets.used',
    ]);
    expect(published[3]!.data).toEqual({
      ticket_code: t.ticket_code,
      used_at: show.json().redeemed_at,
      entitlements: [
        { function_code: 'FERRY', redeemed_at: ferry.json().redeemed_at },
        { function_code: 'LUNCH', redeemed_at: lunch.json().redeemed_at },
        { function_code: 'SHOW', redeemed_at: show.json().redeemed_at },
      ],
    });
  });

  it('redeems a direct-channel ticket by a typed-in code exactly like an OTA one', async () => {
    const t = await ticket({
      partner_id: null,
      channel: 'direct',
      entitlements: [{ function_code: 'FERRY', redeemed_at: null }],
    });
    // Typed by gate staff: lower case, in groups of four, O for 0 and l for 1.
    const typed = t.ticket_code
      .toLowerCase()
      .replace(/0/g, 'o')
      .replace(/1/g, 'l')
      .replace(/(.{4})(?!$)/g, '$1-');
    const res = await scan({ ticket_code: typed, function_code: 'FERRY' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ticket_code: t.ticket_code, ticket_status: 'USED', remaining: [] });
  });
});

describe('rejections', () => {
  it('ALREADY_REDEEMED carries the time of the first redemption', async () => {
    const t = await ticket();
    const { qr_token } = await qrFor(t.ticket_code);
    const first = await scan({ qr_token, function_code: 'FERRY' });
    expect(first.statusCode).toBe(200);
    const second = await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' });
    expect(second.statusCode).toBe(409);
    expect(second.headers['content-type']).toContain('application/problem+json');
    expect(second.json()).toMatchObject({
      code: 'ALREADY_REDEEMED',
      redeemed_at: first.json().redeemed_at,
      ticket_code: t.ticket_code,
      ticket_status: 'ACTIVE',
      remaining: ['LUNCH', 'SHOW'],
    });
  });

  it('a newer QR code supersedes every earlier one', async () => {
    const t = await ticket();
    const older = await qrFor(t.ticket_code);
    const middle = await qrFor(t.ticket_code);
    const newest = await qrFor(t.ticket_code);
    for (const stale of [older, middle]) {
      const res = await scan({ qr_token: stale.qr_token, function_code: 'FERRY' });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({
        code: 'QR_SUPERSEDED',
        ticket_status: 'ACTIVE',
        remaining: ['FERRY', 'LUNCH', 'SHOW'],
      });
    }
    expect((await scan({ qr_token: newest.qr_token, function_code: 'FERRY' })).statusCode).toBe(200);
  });

  it('an expired QR code is refused with 410 (QR_TTL_SECONDS=1)', async () => {
    const shortConfig = loadConfig({ ...ctx.env, QR_TTL_SECONDS: '1' });
    const short = await startRedemption(shortConfig);
    try {
      const t = await ticket();
      const qr = await qrFor(t.ticket_code, short.app);
      expect(Date.parse(qr.expires_at) - Date.now()).toBeLessThanOrEqual(1_000);
      await eventually(async () => Date.now() > Date.parse(qr.expires_at), 'the token to expire');
      const res = await scan({ qr_token: qr.qr_token, function_code: 'FERRY' }, device.device_key, short.app);
      expect(res.statusCode).toBe(410);
      expect(res.json()).toMatchObject({
        code: 'QR_EXPIRED',
        ticket_code: t.ticket_code,
        ticket_status: 'ACTIVE',
        remaining: ['FERRY', 'LUNCH', 'SHOW'],
      });
    } finally {
      await short.close();
    }
  });

  it('tampered, malformed and foreign-key tokens are INVALID_QR and redeem nothing', async () => {
    const t = await ticket();
    const other = await ticket();
    const { qr_token } = await qrFor(t.ticket_code);
    await qrFor(other.ticket_code);
    const tail = qr_token.slice(qr_token.lastIndexOf('.') + 1);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const candidates = [
      qr_token.replace(t.ticket_code, other.ticket_code), // someone else's ticket under this signature
      flip(qr_token, 3), // ticket code
      flip(qr_token, qr_token.length - tail.length + 2), // version
      flip(qr_token, qr_token.length - tail.length + 10), // expiry
      flip(qr_token, qr_token.length - 5), // MAC
      qr_token.slice(0, -1), // truncated
      qr_token.toLowerCase(),
      'hello',
      `T1.${t.ticket_code}`,
      // Well-formed and current, but signed with another key.
      signQrToken('some-other-deployment-key', {
        ticketCode: t.ticket_code,
        version: 1,
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      }),
    ];
    for (const token of candidates) {
      const res = await scan({ qr_token: token, function_code: 'FERRY' });
      expect(res.statusCode, token).toBe(422);
      expect(res.json().code).toBe('INVALID_QR');
      expect(res.json().ticket_status).toBeUndefined();
    }
    // A token for one ticket with another ticket's code typed in is refused too.
    const mismatch = await scan({ qr_token, ticket_code: other.ticket_code, function_code: 'FERRY' });
    expect(mismatch.json().code).toBe('INVALID_QR');
    const unknown = await scan({ ticket_code: 'NOSUCHTICKET0000000000000', function_code: 'FERRY' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('INVALID_QR');
    const { rowCount } = await r.deps.pool.query(
      'SELECT 1 FROM redemption.redemptions WHERE ticket_code = $1',
      [t.ticket_code],
    );
    expect(rowCount).toBe(0);
  });

  it('pre-generated, cancelled and expired tickets are TICKET_NOT_ACTIVE, at the gate and for QR codes', async () => {
    for (const status of ['PRE_GENERATED', 'CANCELLED', 'EXPIRED'] as const) {
      const t = await ticket({ status, channel: 'reseller' });
      const res = await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' });
      expect(res.statusCode, status).toBe(409);
      expect(res.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: status });
      const qr = await r.app.inject({
        method: 'POST',
        url: `/qr/${t.ticket_code}`,
        headers: adminHeaders(ctx.config),
      });
      expect(qr.statusCode).toBe(409);
      expect(qr.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: status });
    }
  });

  it('a ticket cancelled after its QR code was issued is refused', async () => {
    const t = await ticket();
    const { qr_token } = await qrFor(t.ticket_code);
    await projectTickets(r, ctx.config, [{ ...t, status: 'CANCELLED', revision: t.revision + 1 }]);
    const res = await scan({ qr_token, function_code: 'FERRY' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: 'CANCELLED' });
  });

  it('an entitlement the ticket does not carry is ENTITLEMENT_NOT_FOUND', async () => {
    const t = await ticket();
    const res = await scan({ ticket_code: t.ticket_code, function_code: 'SPA' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'ENTITLEMENT_NOT_FOUND',
      ticket_status: 'ACTIVE',
      remaining: ['FERRY', 'LUNCH', 'SHOW'],
    });
  });

  it('bad requests are 400 with the offending fields', async () => {
    const missing = await scan({ function_code: 'FERRY' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe('VALIDATION_FAILED');
    const noFunction = await scan({ ticket_code: 'X' });
    expect(noFunction.statusCode).toBe(400);
    expect(noFunction.json().errors).toContainEqual(expect.objectContaining({ path: 'function_code' }));
  });
});

describe('nonce retries', () => {
  it('a retry with the same nonce gets the identical answer, never ALREADY_REDEEMED', async () => {
    const t = await ticket();
    const { qr_token } = await qrFor(t.ticket_code);
    const body = { qr_token, function_code: 'FERRY', nonce: 'scan-7f3a' };
    const first = await scan(body);
    expect(first.statusCode).toBe(200);
    const retry = await scan(body);
    expect(retry.statusCode).toBe(200);
    expect(retry.body).toBe(first.body);

    // A rejection is replayed just as faithfully (problem document, original request id included).
    const spa = { ticket_code: t.ticket_code, function_code: 'SPA', nonce: 'scan-7f3b' };
    const refused = await scan(spa);
    const refusedAgain = await scan(spa);
    expect(refusedAgain.statusCode).toBe(422);
    expect(refusedAgain.json()).toEqual(refused.json());

    // The nonce is per device: another scanner's scan is evaluated on its own.
    const otherDevice = await createDevice(r.app, ctx.config, 'Pier 3', 'Gate B');
    const elsewhere = await scan(body, otherDevice.device_key);
    expect(elsewhere.json()).toMatchObject({
      code: 'ALREADY_REDEEMED',
      redeemed_at: first.json().redeemed_at,
    });

    // The same nonce for a different scan is a scanner bug, not a retry.
    const reused = await scan({ ...body, function_code: 'LUNCH' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');

    const { rows } = await r.deps.pool.query<{ outcome: string; replayed: boolean }>(
      `SELECT outcome, replayed FROM redemption.scans WHERE ticket_code = $1 AND device_id = $2 ORDER BY id`,
      [t.ticket_code, device.device_id],
    );
    expect(rows).toEqual([
      { outcome: 'ACCEPTED', replayed: false },
      { outcome: 'ACCEPTED', replayed: true },
      { outcome: 'ENTITLEMENT_NOT_FOUND', replayed: false },
      { outcome: 'ENTITLEMENT_NOT_FOUND', replayed: true },
      { outcome: 'IDEMPOTENCY_KEY_REUSED', replayed: false },
    ]);
    const redemptions = await r.deps.pool.query(
      'SELECT 1 FROM redemption.redemptions WHERE ticket_code = $1',
      [t.ticket_code],
    );
    expect(redemptions.rowCount).toBe(1);
  });

  it('nonces are forgotten after their retention; recent ones stay', async () => {
    const t = await ticket();
    await scan({ ticket_code: t.ticket_code, function_code: 'FERRY', nonce: 'old-1' });
    await scan({ ticket_code: t.ticket_code, function_code: 'LUNCH', nonce: 'new-1' });
    await r.deps.pool.query(
      "UPDATE redemption.nonces SET created_at = now() - interval '8 days' WHERE nonce = 'old-1'",
    );
    expect(await purgeNonces(r.deps.pool, 7)).toBe(1);
    const { rows } = await r.deps.pool.query<{ nonce: string }>(
      "SELECT nonce FROM redemption.nonces WHERE nonce IN ('old-1', 'new-1')",
    );
    expect(rows).toEqual([{ nonce: 'new-1' }]);
  });
});

describe('devices', () => {
  it('the device key is required, and a revoked key stops working', async () => {
    const t = await ticket();
    expect((await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' }, null)).statusCode).toBe(401);
    const unknown = await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' }, 'dev_nope');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().code).toBe('UNAUTHORIZED');

    const gate = await createDevice(r.app, ctx.config, 'Pier 9', 'Gate Z');
    const del = await r.app.inject({
      method: 'DELETE',
      url: `/api/admin/devices/${gate.device_id}`,
      headers: adminHeaders(ctx.config),
    });
    expect(del.statusCode).toBe(204);
    expect(
      (await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' }, gate.device_key)).statusCode,
    ).toBe(401);
    const { rowCount } = await r.deps.pool.query(
      'SELECT 1 FROM redemption.redemptions WHERE ticket_code = $1',
      [t.ticket_code],
    );
    expect(rowCount).toBe(0);
  });

  it('a key that scanned a moment ago stops working at its revocation, and its switch applies at once', async () => {
    // The service remembers which device a key belongs to; revocation and manual entry are read by the
    // scan itself, so neither waits for anything.
    const gate = await createDevice(r.app, ctx.config, 'Pier 8', 'Gate Y');
    const [a, b] = [await ticket(), await ticket()];
    expect(
      (await scan({ ticket_code: a.ticket_code, function_code: 'FERRY' }, gate.device_key)).statusCode,
    ).toBe(200);
    const me = () =>
      r.app.inject({ url: '/venue/device', headers: { authorization: `Bearer ${gate.device_key}` } });
    expect((await me()).statusCode).toBe(200);

    const off = await patchDevice(gate.device_id, { manual_entry: false });
    expect(off.statusCode, off.body).toBe(200);
    const typed = await scan({ ticket_code: a.ticket_code, function_code: 'LUNCH' }, gate.device_key);
    expect(typed.json().code).toBe('MANUAL_ENTRY_NOT_ALLOWED');

    const del = await r.app.inject({
      method: 'DELETE',
      url: `/api/admin/devices/${gate.device_id}`,
      headers: adminHeaders(ctx.config),
    });
    expect(del.statusCode).toBe(204);
    const scansBefore = await r.deps.pool.query('SELECT 1 FROM redemption.scans WHERE device_id = $1', [
      gate.device_id,
    ]);
    const qr = await qrFor(b.ticket_code);
    const refused = await scan(
      { qr_token: qr.qr_token, function_code: 'FERRY', nonce: 'after-revocation' },
      gate.device_key,
    );
    expect(refused.statusCode, refused.body).toBe(401);
    expect(refused.json().code).toBe('UNAUTHORIZED');
    expect((await scan({ qr_token: qr.qr_token, function_code: 'FERRY' }, gate.device_key)).statusCode).toBe(
      401,
    );
    expect((await me()).statusCode).toBe(401);
    // Nothing was written for the refused scans: no redemption, no nonce, no scan record.
    const written = await r.deps.pool.query<{ redemptions: number; nonces: number; scans: number }>(
      `SELECT (SELECT count(*)::int FROM redemption.redemptions WHERE ticket_code = $1) AS redemptions,
              (SELECT count(*)::int FROM redemption.nonces WHERE device_id = $2) AS nonces,
              (SELECT count(*)::int FROM redemption.scans WHERE device_id = $2) AS scans`,
      [b.ticket_code, gate.device_id],
    );
    expect(written.rows[0]).toEqual({ redemptions: 0, nonces: 0, scans: scansBefore.rowCount });
  });

  it('operators create devices idempotently and only with the operator token', async () => {
    const headers = { ...adminHeaders(ctx.config), 'idempotency-key': 'gate-c-1' };
    const payload = { venue: 'Pier 4', name: 'Gate C' };
    const a = await r.app.inject({ method: 'POST', url: '/api/admin/devices', headers, payload });
    const b = await r.app.inject({ method: 'POST', url: '/api/admin/devices', headers, payload });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json()).toEqual(a.json());
    const { rowCount } = await r.deps.pool.query("SELECT 1 FROM redemption.devices WHERE name = 'Gate C'");
    expect(rowCount).toBe(1);
    const reused = await r.app.inject({
      method: 'POST',
      url: '/api/admin/devices',
      headers,
      payload: { ...payload, name: 'Gate D' },
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');

    const stored = await r.deps.pool.query<{ key_hash: string }>(
      'SELECT key_hash FROM redemption.devices WHERE device_id = $1',
      [a.json().device_id],
    );
    expect(stored.rows[0]!.key_hash).not.toContain(a.json().device_key);
    expect(stored.rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    // The replayable response is kept with the key sealed, never in plain text.
    const kept = await r.deps.pool.query<{ body: unknown }>(
      "SELECT body FROM redemption.idempotency_keys WHERE key = 'gate-c-1'",
    );
    expect(JSON.stringify(kept.rows[0]!.body)).not.toContain(a.json().device_key);

    const anonymous = await r.app.inject({ method: 'POST', url: '/api/admin/devices', payload });
    expect(anonymous.statusCode).toBe(401);
    const missing = await r.app.inject({
      method: 'DELETE',
      url: '/api/admin/devices/00000000-0000-4000-8000-000000000000',
      headers: adminHeaders(ctx.config),
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('manual entry', () => {
  const scansOf = async (ticketCode: string | null, deviceId: string) =>
    (
      await r.deps.pool.query<{ outcome: string; manual_entry: boolean; http_status: number }>(
        `SELECT outcome, manual_entry, http_status FROM redemption.scans
          WHERE device_id = $1 AND ticket_code IS NOT DISTINCT FROM $2 ORDER BY id`,
        [deviceId, ticketCode],
      )
    ).rows;

  it('is on by default; a device without it refuses typed codes with 403 MANUAL_ENTRY_NOT_ALLOWED', async () => {
    const strict = await createDevice(r.app, ctx.config, 'Pier 5', 'QR only', { manual_entry: false });
    const created = await r.deps.pool.query(
      'SELECT manual_entry FROM redemption.devices WHERE device_id = ANY($1) ORDER BY manual_entry',
      [[strict.device_id, device.device_id]],
    );
    expect(created.rows.map((row) => row.manual_entry)).toEqual([false, true]);

    const t = await ticket();
    // An expired QR code still names the ticket: typing its code in used to redeem it anyway.
    const expired = signQrToken(ctx.config.QR_SIGNING_KEY, {
      ticketCode: t.ticket_code,
      version: 1,
      expiresAt: Math.floor(Date.now() / 1000) - 60,
    });
    const qrScan = await scan({ qr_token: expired, function_code: 'FERRY' }, strict.device_key);
    expect(qrScan.json().code).toBe('QR_EXPIRED');
    const typed = await scan(
      { ticket_code: t.ticket_code, function_code: 'FERRY', nonce: 'm-1' },
      strict.device_key,
    );
    expect(typed.statusCode).toBe(403);
    expect(typed.headers['content-type']).toContain('application/problem+json');
    expect(typed.json().code).toBe('MANUAL_ENTRY_NOT_ALLOWED');
    const { rowCount } = await r.deps.pool.query(
      'SELECT 1 FROM redemption.redemptions WHERE ticket_code = $1',
      [t.ticket_code],
    );
    expect(rowCount).toBe(0);
    // The refusal is in the scan log as a manual attempt (the untrusted code is not recorded).
    expect(await scansOf(null, strict.device_id)).toContainEqual({
      outcome: 'MANUAL_ENTRY_NOT_ALLOWED',
      manual_entry: true,
      http_status: 403,
    });

    // A fresh QR code on the same device still redeems.
    const fresh = await qrFor(t.ticket_code);
    expect(
      (await scan({ qr_token: fresh.qr_token, function_code: 'FERRY' }, strict.device_key)).statusCode,
    ).toBe(200);
  });

  it('marks each manual redemption as such in the scan log, and QR scans as not manual', async () => {
    const t = await ticket();
    const qr = await qrFor(t.ticket_code);
    expect((await scan({ qr_token: qr.qr_token, function_code: 'FERRY' })).statusCode).toBe(200);
    expect((await scan({ ticket_code: t.ticket_code, function_code: 'LUNCH' })).statusCode).toBe(200);
    expect(await scansOf(t.ticket_code, device.device_id)).toEqual([
      { outcome: 'ACCEPTED', manual_entry: false, http_status: 200 },
      { outcome: 'ACCEPTED', manual_entry: true, http_status: 200 },
    ]);
  });

  it('operators list devices (never the key) and switch manual entry with PATCH, effective on the next scan', async () => {
    const gate = await createDevice(r.app, ctx.config, 'Pier 6', 'Switchable');
    const list = await r.app.inject({
      url: '/api/admin/devices?page=1&page_size=500',
      headers: adminHeaders(ctx.config),
    });
    expect(list.statusCode, list.body).toBe(200);
    const page = list.json();
    expect(page).toMatchObject({ page: 1, page_size: 500, has_more: false });
    expect(page.total).toBe(page.data.length);
    const listed = page.data.find((d: { device_id: string }) => d.device_id === gate.device_id);
    expect(listed).toEqual({
      device_id: gate.device_id,
      venue: 'Pier 6',
      name: 'Switchable',
      manual_entry: true,
      created_at: expect.any(String),
      revoked_at: null,
    });
    expect(list.body).not.toContain(gate.device_key);
    expect(list.body).not.toMatch(/key/);
    // Newest first, and paged.
    const first = await r.app.inject({
      url: '/api/admin/devices?page_size=1',
      headers: adminHeaders(ctx.config),
    });
    expect(first.json().data).toHaveLength(1);
    expect(first.json().data[0].device_id).toBe(gate.device_id);
    expect(first.json().has_more).toBe(true);
    const walk = await walkByCursor('page_size=2', async (q) => {
      const res = await r.app.inject({ url: `/api/admin/devices?${q}`, headers: adminHeaders(ctx.config) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    });
    expect(walk.items).toEqual(page.data);

    const t = await ticket();
    const off = await patchDevice(gate.device_id, { manual_entry: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ device_id: gate.device_id, manual_entry: false });
    expect(
      (await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' }, gate.device_key)).statusCode,
    ).toBe(403);
    const on = await patchDevice(gate.device_id, { manual_entry: true });
    expect(on.json().manual_entry).toBe(true);
    expect(
      (await scan({ ticket_code: t.ticket_code, function_code: 'FERRY' }, gate.device_key)).statusCode,
    ).toBe(200);

    for (const [url, method, payload, status] of [
      ['/api/admin/devices/00000000-0000-4000-8000-000000000000', 'PATCH', { manual_entry: false }, 404],
      [`/api/admin/devices/${gate.device_id}`, 'PATCH', { manual_entry: 'no' }, 400],
      [`/api/admin/devices/${gate.device_id}`, 'PATCH', {}, 400],
    ] as const) {
      const res = await r.app.inject({ method, url, headers: adminHeaders(ctx.config), payload });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(status);
    }
    // Only the operator.
    expect((await r.app.inject({ url: '/api/admin/devices' })).statusCode).toBe(401);
    expect(
      (
        await r.app.inject({
          method: 'PATCH',
          url: `/api/admin/devices/${gate.device_id}`,
          headers: { authorization: `Bearer ${gate.device_key}` },
          payload: { manual_entry: true },
        })
      ).statusCode,
    ).toBe(401);
  });
});

/** The redemption events for one ticket as they sit on the JetStream stream, in order. */
async function redemptionEventsFor(ticketCode: string) {
  const js = r.deps.nc.jetstream();
  const prefix = ctx.config.NATS_PREFIX;
  const consumer = await js.consumers.get(streamName(prefix), {
    filterSubjects: `${prefix}.events.redemption.>`,
  });
  const out: { subject: string; data: { ticket_code: string } & Record<string, unknown> }[] = [];
  const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
  for await (const m of batch) {
    const envelope = m.json<{ data: { ticket_code: string } }>();
    if (envelope.data.ticket_code === ticketCode) {
      out.push({ subject: m.subject.slice(prefix.length + 1), data: envelope.data });
    }
    if (m.info.pending === 0) break;
  }
  return out;
}
