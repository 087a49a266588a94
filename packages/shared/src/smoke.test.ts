import { buildApp } from '@cruise/inventory';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeServiceDeps, createServiceDeps, type ServiceDeps } from './service.ts';

let ctx: TestContext;
let deps: ServiceDeps;
beforeAll(async () => {
  ctx = await createTestContext();
  deps = await createServiceDeps(ctx.config, 'smoke');
});
afterAll(async () => {
  await closeServiceDeps(deps);
  await ctx.cleanup();
});

it('a service answers health, readiness and metrics, and unknown routes as problem+json', async () => {
  const app = await buildApp(ctx.config, deps, { logger: false });
  expect((await app.inject('/healthz')).statusCode).toBe(200);
  const ready = await app.inject('/readyz');
  expect(ready.json(), ready.body).toMatchObject({ status: 'ready' });
  expect((await app.inject('/metrics')).body).toContain('http_request_duration_seconds');
  const missing = await app.inject({ url: '/nope', headers: { 'x-request-id': 'abc-1' } });
  expect(missing.statusCode).toBe(404);
  expect(missing.headers['content-type']).toContain('application/problem+json');
  expect(missing.json()).toMatchObject({ code: 'NOT_FOUND', request_id: 'abc-1' });
  await app.close();
});
