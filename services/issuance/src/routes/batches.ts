// Bulk generation and batch routes: thin adapters over domain/batches.ts; the CSV is streamed
// straight from PostgreSQL (COPY … TO STDOUT), so a million-ticket batch never sits in memory.
import {
  AppError,
  type batchTicketsCsvRoute,
  type bulkGenerateRoute,
  type getBatchRoute,
  type Handler,
  idempotent,
  type listBatchesRoute,
  newId,
} from '@cruise/shared';
import { to as copyTo } from 'pg-copy-streams';
import { table } from '../db/tables.ts';
import { batchIdFromKey, createBatch, getBatch, listBatches } from '../domain/batches.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const bulkGenerate: Handler<typeof bulkGenerateRoute, IssuanceContext> = async ({
  body,
  headers,
  caller,
  ctx,
  reply,
}) => {
  const { partnerId } = caller;
  const key = headers['idempotency-key'];
  const batchId = key ? batchIdFromKey(partnerId, key) : newId();
  const result = await idempotent(
    ctx.pool,
    'issuance',
    { scope: partnerId, key, operation: 'bulk-generate', request: body },
    async (client) => {
      const created = await createBatch(client, ctx.inventory, {
        partnerId,
        batchId,
        body,
        tentativeDays: ctx.config.BATCH_TENTATIVE_DAYS,
      });
      return { status: 202, body: orRefuse(created).accepted };
    },
  );
  // Also on a replay: enqueueing is idempotent and repairs a crash between commit and enqueue.
  await ctx.enqueueBatch(result.body.batch_id);
  // Where to poll, and when: a generous first estimate (the worker writes some 10,000 tickets a second).
  reply
    .header('Location', result.body.poll_url)
    .header('Retry-After', String(Math.min(30, Math.max(1, Math.ceil(body.quantity / 10_000)))));
  return result.body;
};

export const listPartnerBatches: Handler<typeof listBatchesRoute, IssuanceContext> = async ({
  query,
  caller,
  ctx,
}) => orRefuse(await listBatches(ctx.pool, caller.partnerId, query)).page;

export const getPartnerBatch: Handler<typeof getBatchRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
}) => orRefuse(await getBatch(ctx.pool, caller.partnerId, params.batch_id)).batch;

export const batchTicketsCsv: Handler<typeof batchTicketsCsvRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
  reply,
}) => {
  const { partnerId } = caller;
  const { batch_id } = params;
  orRefuse(await getBatch(ctx.pool, partnerId, batch_id)); // 404 for an unknown or another partner's batch
  const client = await ctx.pool.connect();
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  try {
    // COPY takes no parameters: both ids were validated as UUIDs (route schema, the caller check).
    const stream = client.query(
      copyTo(
        `COPY (SELECT batch_seq, ticket_code, status,
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
             FROM ${table.tickets} WHERE batch_id = '${batch_id}' AND partner_id = '${partnerId}'
             ORDER BY batch_seq) TO STDOUT WITH (FORMAT csv, HEADER true)`,
      ),
    );
    stream.on('end', () => release());
    stream.on('error', (err: Error) => release(err));
    reply.raw.on('close', () => {
      if (!released) {
        stream.destroy();
        release(new Error('client went away mid-CSV'));
      }
    });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="batch-${batch_id}.csv"`)
      .send(stream);
  } catch (err) {
    release(err as Error);
    throw err instanceof AppError ? err : new AppError('INTERNAL_ERROR', 'The CSV could not be produced');
  }
};
