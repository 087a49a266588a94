// A ticket code is the bearer secret of /qr/{code}/info and of manual entry: the gateway's request
// logs and audit rows name the route template and a short hash of the code, never the code itself.
import {
  closeServiceDeps,
  createServiceDeps,
  gatewayRoutes,
  type LogStream,
  newTicketCode,
  ticketCodeHash,
} from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.ts';
import { ADMIN_TOKEN, bearer, createPartner, pollUntil, startUpstream, testRoutes } from './harness.ts';

let ctx: TestContext;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let deps: Awaited<ReturnType<typeof createServiceDeps>>;
let app: Awaited<ReturnType<typeof buildApp>>;
/** Every line the gateway logged, as written (JSON). */
const lines: string[] = [];
const stream: LogStream = { write: (line: string) => void lines.push(line) };

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN, AUDIT_FLUSH_MS: '50', LOG_LEVEL: 'trace' });
  upstream = await startUpstream(ctx.config);
  const config = {
    ...ctx.config,
    INVENTORY_URL: upstream.url,
    ISSUANCE_URL: upstream.url,
    REDEMPTION_URL: upstream.url,
  };
  deps = await createServiceDeps(config, 'gateway');
  app = await buildApp(config, deps, { routes: [...gatewayRoutes, ...testRoutes], logStream: stream });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  if (deps) await closeServiceDeps(deps);
  await upstream?.app.close();
  await ctx?.cleanup();
});

describe('ticket codes in logs and audit rows', () => {
  it('are written as the route template and a short hash, never as the code', async () => {
    const code = newTicketCode();
    const partner = await createPartner(app);
    const calls = [
      { method: 'GET', url: `/qr/${code}/info`, status: 200 },
      { method: 'GET', url: `/qr/${code}/info?lang=en`, status: 200 },
      { method: 'POST', url: `/qr/${code}`, headers: bearer(partner.api_key), status: 200 },
      // Refused (logged as "request refused") and unmatched paths carry it too.
      { method: 'POST', url: `/qr/${code}`, status: 401 },
      { method: 'GET', url: `/qr/${code}/infox`, status: 404 },
      { method: 'GET', url: `/qr/${code.toLowerCase()}-typed/info`, status: 200 },
    ] as const;
    const ids: string[] = [];
    for (const [i, c] of calls.entries()) {
      const id = `logs-${i}-${Date.now()}`;
      ids.push(id);
      const res = await app.inject({
        method: c.method,
        url: c.url,
        headers: { 'x-request-id': id, ...('headers' in c ? c.headers : {}) },
      });
      expect(res.statusCode, c.url).toBe(c.status);
    }
    let rows: { route: string | null; path: string; request_id: string }[] = [];
    await pollUntil(async () => {
      rows = (
        await deps.pool.query(
          'SELECT route, path, request_id FROM gateway.audit_log WHERE request_id = ANY($1)',
          [ids],
        )
      ).rows;
      return rows.length === calls.length;
    }, 10_000);

    const hash = ticketCodeHash(code);
    const logged = lines.join('');
    // What was written down, in full: the code in any form is nowhere.
    for (const secret of [code, code.toLowerCase(), encodeURIComponent(code)]) {
      expect(logged).not.toContain(secret);
      expect(JSON.stringify(rows)).not.toContain(secret);
    }
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(ids[0]!)).toMatchObject({ route: '/qr/:ticket_code/info', path: `/qr/${hash}/info` });
    expect(byId.get(ids[2]!)).toMatchObject({ route: '/qr/:ticket_code', path: `/qr/${hash}` });
    expect(byId.get(ids[4]!)).toMatchObject({ route: null, path: `/qr/${hash}/infox` });

    // The log line of a request (one per request, at debug for a success) carries the template and the
    // hash, so support can still find it.
    const completed = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.reqId === ids[0] && l.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0].req).toMatchObject({
      method: 'GET',
      route: '/qr/:ticket_code/info',
      url: `/qr/${hash}/info`,
      ticket: hash,
    });
    expect(lines.some((l) => l.includes('request refused'))).toBe(true);
  });
});
