// Scanners call redemption directly, so its own request logs must not carry ticket codes either:
// the route template and a short hash of the code, never the code (shared pino serializer).
import {
  closeServiceDeps,
  createServiceDeps,
  type LogStream,
  type ServiceDeps,
  ticketCodeHash,
} from '@cruise/shared';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { createDevice, fakeIssuanceSnapshots, projectTickets, snapshot } from './support.ts';

let ctx: TestContext;
let deps: ServiceDeps;
let app: Awaited<ReturnType<typeof buildApp>>;
let issuance: ReturnType<typeof fakeIssuanceSnapshots>;
const lines: string[] = [];
const stream: LogStream = { write: (line: string) => void lines.push(line) };

beforeAll(async () => {
  ctx = await createTestContext({ LOG_LEVEL: 'trace' });
  deps = await createServiceDeps(ctx.config, 'redemption-logs-test');
  // Admin calls (device creation) are signed as the gateway signs them.
  app = injectAsGateway(await buildApp(ctx.config, deps, { logStream: stream }), ctx.config.INTERNAL_TOKEN);
  issuance = fakeIssuanceSnapshots(deps, ctx.config);
});
afterAll(async () => {
  issuance?.stop();
  await app?.close();
  if (deps) await closeServiceDeps(deps);
  await ctx?.cleanup();
});

it('logs the route template and a hash of the ticket code, never the code', async () => {
  const [t] = await projectTickets({ app, deps, close: async () => {} }, ctx.config, [
    issuance.put(snapshot()),
  ]);
  const code = t!.ticket_code;
  const device = await createDevice(app, ctx.config);
  const info = await app.inject({ url: `/qr/${code}/info`, headers: { 'x-request-id': 'info-1' } });
  expect(info.statusCode).toBe(200);
  const scan = await app.inject({
    method: 'POST',
    url: '/venue/redeem',
    headers: { authorization: `Bearer ${device.device_key}` },
    payload: { ticket_code: code, function_code: 'FERRY' },
  });
  expect(scan.statusCode, scan.body).toBe(200);
  expect((await app.inject({ url: `/qr/${code}/info/extra` })).statusCode).toBe(404);
  expect((await app.inject({ url: `/qr/${code}x/info` })).statusCode).toBe(404);

  const logged = lines.join('');
  expect(logged.length).toBeGreaterThan(0);
  expect(logged).not.toContain(code);
  const incoming = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'info-1' && l.req);
  expect(incoming.req).toMatchObject({
    route: '/qr/:ticket_code/info',
    url: `/qr/${ticketCodeHash(code)}/info`,
    ticket: ticketCodeHash(code),
  });
});
