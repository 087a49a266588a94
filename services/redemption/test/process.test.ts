// The service as a real process (server.ts): migrates, listens, consumes issuance's events, redeems
// over HTTP with a device key, and shuts down gracefully on SIGTERM.
import { closeServiceDeps, createServiceDeps, type ServiceDeps, signInternalRequest } from '@cruise/shared';
import {
  createTestContext,
  freePort,
  type RunningService,
  startService,
  type TestContext,
} from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, projectedRevision, publishTickets, snapshot } from './support.ts';

let ctx: TestContext;
let deps: ServiceDeps;
let service: RunningService;

beforeAll(async () => {
  ctx = await createTestContext();
  deps = await createServiceDeps(ctx.config, 'redemption-process-test');
  service = await startService('redemption', ctx.env, { port: await freePort() });
});
afterAll(async () => {
  await service?.kill();
  await closeServiceDeps(deps);
  await ctx?.cleanup();
});

it('redeems over HTTP as a scanner would, and stops cleanly on SIGTERM', async () => {
  const created = await fetch(`${service.url}/api/admin/devices`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signInternalRequest(ctx.config.INTERNAL_TOKEN, {
        method: 'POST',
        url: '/api/admin/devices',
        requestId: 'process-test-device',
        caller: { kind: 'admin' },
      }),
    },
    body: JSON.stringify({ venue: 'Pier 1', name: 'Gate 1' }),
  });
  expect(created.status).toBe(201);
  const { device_key } = (await created.json()) as { device_key: string };

  const t = snapshot();
  await publishTickets(deps, ctx.config, [t]);
  await eventually(async () => (await projectedRevision(deps, t.ticket_code)) === t.revision, 'projection');

  const res = await fetch(`${service.url}/venue/redeem`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${device_key}` },
    body: JSON.stringify({ ticket_code: t.ticket_code, function_code: 'FERRY', nonce: 'p-1' }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(await res.json()).toMatchObject({ result: 'ACCEPTED', remaining: ['LUNCH', 'SHOW'] });

  await service.stop();
  expect(service.process.exitCode).toBe(0);
});
