// A chunk larger than GENERATED_CODES_MAX goes out as several tickets.generated events, in batch order
// (otherwise a large BATCH_CHUNK_SIZE would make one event beyond NATS's payload limit). The bound is
// 10,000 codes; this file lowers it to 64 (test code) so a 200-ticket chunk shows the split.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { generateNextChunk } from '../src/domain/batches.ts';
import {
  allocate,
  bulkGenerate,
  newPartner,
  newReseller,
  partnerHeaders,
  type System,
  startSystem,
} from './harness.ts';

vi.mock('../src/domain/ticket-events.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/domain/ticket-events.ts')>()),
  GENERATED_CODES_MAX: 64,
}));

let ctx: TestContext;
let sys: System;
let partner: string;
let resellerId: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  partner = await newPartner(sys, []);
  await allocate(sys, { productId: 107, channel: 'reseller', partnerId: partner, allocated: 200 });
  resellerId = await newReseller(sys, ctx.config, partner, { name: 'Split Reseller' });
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

it('splits a chunk into events of at most GENERATED_CODES_MAX codes, in batch order', async () => {
  const batch_id = await bulkGenerate(sys, partnerHeaders(ctx.config, partner), {
    product_id: 107,
    quantity: 200,
    reseller_id: resellerId,
  });
  expect(await generateNextChunk(sys.deps.pool, batch_id, 200)).toBe('completed');
  const { rows } = await sys.deps.pool.query<{ codes: string[] }>(
    `SELECT ARRAY(SELECT jsonb_array_elements_text(envelope->'data'->'ticket_codes')) AS codes
       FROM issuance.outbox
      WHERE subject = 'events.issuance.tickets.generated' AND envelope->'data'->>'batch_id' = $1 ORDER BY id`,
    [batch_id],
  );
  expect(rows.map((r) => r.codes.length)).toEqual([64, 64, 64, 8]);
  const { rows: tickets } = await sys.deps.pool.query<{ ticket_code: string }>(
    'SELECT ticket_code FROM issuance.tickets WHERE batch_id = $1 ORDER BY batch_seq',
    [batch_id],
  );
  expect(rows.flatMap((r) => r.codes)).toEqual(tickets.map((t) => t.ticket_code));
});
