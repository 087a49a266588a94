// Fault: the issuance worker killed (-9) in the middle of a batch, then restarted. Private
// PostgreSQL/Redis/NATS (infra.ts), all four services as processes; afterwards the system's invariants
// must hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FaultWorld, startFaultWorld } from './fault-system.ts';
import { describeViolations, waitForInvariants } from './invariants.ts';
import { call, expectStatus } from './system.ts';

let world: FaultWorld;

beforeAll(async () => {
  // Small chunks make a batch take long enough to be killed in the middle of it.
  world = await startFaultWorld({ env: { BATCH_CHUNK_SIZE: '250' } });
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
}, 60_000);

async function expectInvariants() {
  const results = await waitForInvariants(world.db, { timeoutMs: 30_000 });
  expect(describeViolations(results)).toBe('');
}

describe('issuance worker killed mid-batch', () => {
  it('resumes after a restart and completes the batch with exactly its tickets', async () => {
    const quantity = 20_000;
    const partner = await world.newPartner({ reseller: { 106: quantity } });
    const reseller = expectStatus(
      await call('POST', `${world.system.gateway}/api/ota/resellers`, {
        token: partner.api_key,
        body: { name: 'Kill test reseller' },
      }),
      201,
      'create reseller',
    );
    const accepted = expectStatus(
      await call('POST', `${world.system.gateway}/api/ota/tickets/bulk-generate`, {
        token: partner.api_key,
        body: { product_id: 106, quantity, reseller_id: reseller.reseller_id },
      }),
      202,
      'bulk-generate',
    );
    const batchId: string = accepted.batch_id;

    // Kill -9 as soon as some chunks are committed and others are not.
    const generatedAtKill = await eventually(
      'batch started',
      async () => {
        const { rows } = await world.db.query<{ generated: number }>(
          'SELECT generated FROM issuance.batches WHERE batch_id = $1',
          [batchId],
        );
        const g = rows[0]?.generated ?? 0;
        return g > 0 ? g : undefined;
      },
      60_000,
    );
    await world.system.services.get('issuance')!.kill();
    const { rows: atKill } = await world.db.query<{ generated: number; tickets: number }>(
      `SELECT b.generated, (SELECT count(*)::int FROM issuance.tickets t WHERE t.batch_id = b.batch_id) AS tickets
         FROM issuance.batches b WHERE b.batch_id = $1`,
      [batchId],
    );
    expect(generatedAtKill).toBeLessThan(quantity);
    expect(atKill[0]!.generated).toBeLessThan(quantity); // really killed in the middle
    expect(atKill[0]!.tickets).toBe(atKill[0]!.generated); // chunks commit with their progress

    await world.system.start('issuance');
    // BullMQ hands the job of a dead worker to a live one once its lock lapses (lockDuration).
    const batch = await eventually(
      'batch completed after restart',
      async () => {
        const res = await call('GET', `${world.system.gateway}/api/ota/batches/${batchId}`, {
          token: partner.api_key,
        });
        expect(res.body.status).not.toBe('FAILED');
        return res.body.status === 'COMPLETED' ? res.body : undefined;
      },
      120_000,
    );
    expect(batch.generated).toBe(quantity);
    const { rows } = await world.db.query<{ n: number; seqs: number; codes: number; lo: number; hi: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT batch_seq)::int AS seqs, count(DISTINCT ticket_code)::int AS codes,
              min(batch_seq) AS lo, max(batch_seq) AS hi
         FROM issuance.tickets WHERE batch_id = $1 AND status = 'PRE_GENERATED'`,
      [batchId],
    );
    expect(rows[0]).toEqual({ n: quantity, seqs: quantity, codes: quantity, lo: 1, hi: quantity });
    await expectInvariants();
  }, 240_000);
});
