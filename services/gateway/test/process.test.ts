// The gateway as a real process: it starts (migrations, readiness), serves, and on SIGTERM drains and
// writes the audit rows still buffered before exiting.
import { createTestContext, freePort, startService, type TestContext } from '@cruise/testkit';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN, ADMIN_TOKEN } from './harness.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN, AUDIT_FLUSH_MS: '600000' });
});
afterAll(async () => {
  await ctx?.cleanup();
});

it('flushes buffered audit rows on graceful shutdown', async () => {
  const closed = await freePort();
  const down = `http://127.0.0.1:${closed}`;
  const gateway = await startService(
    'gateway',
    { ...ctx.env, INVENTORY_URL: down, ISSUANCE_URL: down, REDEMPTION_URL: down },
    { port: await freePort() },
  );
  try {
    const created = await fetch(`${gateway.url}/api/admin/partners`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json', 'x-request-id': 'process-create' },
      body: JSON.stringify({ name: 'Process OTA' }),
    });
    expect(created.status).toBe(201);
    const forwarded = await fetch(`${gateway.url}/qr/SOMECODE/info`, {
      headers: { 'x-request-id': 'process-info' },
    });
    expect(forwarded.status).toBe(503);
    expect(forwarded.headers.get('content-type')).toContain('application/problem+json');
    const docs = await fetch(`${gateway.url}/openapi.json`);
    expect(docs.status).toBe(200);
  } finally {
    await gateway.stop();
  }
  expect(gateway.process.exitCode).toBe(0);
  const db = new pg.Client({ connectionString: ctx.config.DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT request_id, actor_kind, status FROM gateway.audit_log WHERE request_id LIKE 'process-%' ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'process-create', actor_kind: 'admin', status: 201 },
      { request_id: 'process-info', actor_kind: 'anonymous', status: 503 },
    ]);
  } finally {
    await db.end();
  }
});
