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

it('answers 400, not 500, when input carries a character PostgreSQL cannot store', async () => {
  const app = await buildApp(ctx.config, deps, { logger: false });
  app.get('/echo/:text', async (request) => {
    const { text } = request.params as { text: string };
    return (await deps.pool.query('SELECT $1::text AS text', [text])).rows[0];
  });
  const res = await app.inject('/echo/a%00b');
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect((await app.inject('/echo/ab')).json()).toEqual({ text: 'ab' });
  await app.close();
});

it('answers 400, not 500, when PostgreSQL refuses a date or time (22007, 22008, 22009)', async () => {
  // The safety net behind the contract's date range: a route whose schema forgot it still answers 400.
  const app = await buildApp(ctx.config, deps, { logger: false });
  app.get('/at/:value', async (request) => {
    const { value } = request.params as { value: string };
    return (await deps.pool.query('SELECT $1::timestamptz AS at', [value])).rows[0];
  });
  for (const value of ['0000-01-01', '2026-01-01T00:00:00+99:00', 'not a time', '294277-01-01']) {
    const res = await app.inject(`/at/${encodeURIComponent(value)}`);
    expect(res.statusCode, value).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json(), value).toMatchObject({ code: 'VALIDATION_FAILED' });
  }
  expect((await app.inject('/at/2026-01-01T00%3A00%3A00Z')).statusCode).toBe(200);
  await app.close();
});
