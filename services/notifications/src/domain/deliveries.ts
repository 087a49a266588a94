// Deliveries: one event to one webhook, with every attempt recorded. The row is the truth (PENDING until
// a 2xx, FAILED when retries run out or the receiver answers 410); BullMQ jobs only perform attempts.
import { randomUUID } from 'node:crypto';
import {
  type Delivery,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  type Outcome,
  type PartnerEvent,
  type Pool,
  type Queryable,
  refuse,
  type SqlRow,
} from '@cruise/shared';
import type { deliveries } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import type { NewDelivery } from './event-store.ts';
import type { WebhookRow } from './webhooks.ts';

type DeliveryRow = Pick<
  SqlRow<typeof deliveries>,
  | 'delivery_id'
  | 'event_id'
  | 'event_type'
  | 'status'
  | 'attempts'
  | 'last_status_code'
  | 'last_error'
  | 'next_attempt_at'
  | 'created_at'
  | 'delivered_at'
>;

const COLUMNS = `d.delivery_id, d.event_id, d.event_type, d.status, d.attempts, d.last_status_code, d.last_error,
  d.next_attempt_at, d.created_at, d.delivered_at`;

function toDelivery(r: DeliveryRow): Delivery {
  return {
    delivery_id: r.delivery_id,
    event_id: r.event_id,
    event_type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    next_attempt_at: r.status === 'PENDING' ? (r.next_attempt_at?.toISOString() ?? null) : null,
    created_at: r.created_at.toISOString(),
    delivered_at: r.delivered_at?.toISOString() ?? null,
  };
}

async function ownsWebhook(db: Queryable, partnerId: string, webhookId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM ${table.webhooks} WHERE webhook_id = $1 AND partner_id = $2`,
    [webhookId, partnerId],
  );
  return (rowCount ?? 0) > 0;
}

/** A webhook's deliveries, newest first. */
export const DELIVERIES_NEWEST_FIRST = new Keyset(
  'deliveries',
  [
    { sql: 'd.created_at', type: 'timestamptz' },
    { sql: 'd.delivery_id', type: 'uuid' },
  ],
  // The (webhook_id, created_at, delivery_id) index, read backwards.
  { nullsLast: false },
);

export async function listDeliveries(
  db: Queryable,
  input: ListQuery & {
    partnerId: string;
    webhookId: string;
    status?: Delivery['status'] | undefined;
  },
): Promise<Outcome<{ page: ListPage<Delivery> }>> {
  if (!(await ownsWebhook(db, input.partnerId, input.webhookId)))
    return refuse('NOT_FOUND', 'No such webhook');
  return DELIVERIES_NEWEST_FIRST.list(
    db,
    input,
    {
      from: table.deliveries,
      alias: 'd',
      where: 'd.webhook_id = $1 AND d.partner_id = $2 AND ($3::text IS NULL OR d.status = $3)',
      select: COLUMNS,
    },
    [input.webhookId, input.partnerId, input.status ?? null],
    (r: DeliveryRow & KeyedRow) => toDelivery(r),
  );
}

/** A `ping` to one webhook whatever its events: a delivery row like any other, not in the feed. */
export async function queuePing(
  db: Queryable,
  partnerId: string,
  webhookId: string,
  now: Date = new Date(),
): Promise<Outcome<{ delivery_id: string; event_id: string }, 'NOT_FOUND'>> {
  const eventId = randomUUID();
  const payload: PartnerEvent = {
    event_id: eventId,
    type: 'ping',
    created_at: now.toISOString(),
    partner_id: partnerId,
    revision: 0,
    data: { webhook_id: webhookId },
  };
  const { rows } = await db.query<{ delivery_id: string }>(
    `INSERT INTO ${table.deliveries} (delivery_id, webhook_id, partner_id, event_id, event_type, payload,
       status, next_attempt_at, event_created_at)
     SELECT $1, webhook_id, partner_id, $2, 'ping', $3, 'PENDING', now(), $4
     FROM ${table.webhooks} WHERE webhook_id = $5 AND partner_id = $6
     RETURNING delivery_id`,
    [randomUUID(), eventId, JSON.stringify(payload), now, webhookId, partnerId],
  );
  return rows[0]
    ? { ok: true, delivery_id: rows[0].delivery_id, event_id: eventId }
    : refuse('NOT_FOUND', 'No such webhook');
}

/** The same event (same `webhook-id`) once more, as a new delivery whatever the original's status. */
export async function redeliver(
  db: Queryable,
  input: { partnerId: string; webhookId: string; deliveryId: string },
): Promise<Outcome<{ delivery_id: string; event_id: string }, 'NOT_FOUND'>> {
  const { rows } = await db.query<{ delivery_id: string; event_id: string }>(
    `INSERT INTO ${table.deliveries} (delivery_id, webhook_id, partner_id, event_id, event_type, payload,
       redelivery_of, status, next_attempt_at, event_created_at)
     SELECT $1, d.webhook_id, d.partner_id, d.event_id, d.event_type, d.payload, d.delivery_id, 'PENDING', now(),
       d.event_created_at
     FROM ${table.deliveries} d
     WHERE d.delivery_id = $2 AND d.webhook_id = $3 AND d.partner_id = $4
     RETURNING delivery_id, event_id`,
    [randomUUID(), input.deliveryId, input.webhookId, input.partnerId],
  );
  return rows[0] ? { ok: true, ...rows[0] } : refuse('NOT_FOUND', 'No such delivery');
}

/**
 * What one attempt needs: the delivery, its webhook and the exact body to send (the stored JSON as
 * PostgreSQL renders it: the same bytes for every attempt, and nothing parsed only to be serialised).
 */
export interface AttemptContext {
  delivery_id: string;
  status: DeliveryRow['status'];
  attempts: number;
  created_at: Date;
  event_created_at: Date;
  event_id: string;
  body: string;
  webhook: Pick<
    WebhookRow,
    | 'webhook_id'
    | 'url'
    | 'status'
    | 'secret_sealed'
    | 'previous_secret_sealed'
    | 'previous_secret_expires_at'
  >;
  /** When the first attempt was made (the retry window starts there). */
  first_attempt_at: Date | null;
}

export async function loadAttempt(db: Queryable, deliveryId: string): Promise<AttemptContext | null> {
  const { rows } = await db.query<
    Omit<AttemptContext, 'webhook'> &
      Omit<AttemptContext['webhook'], 'status'> & { webhook_status: WebhookRow['status'] }
  >(
    `SELECT d.delivery_id, d.status, d.attempts, d.created_at, d.event_created_at,
       d.event_id, COALESCE(d.payload, e.payload)::text AS body,
       w.webhook_id, w.url, w.status AS webhook_status, w.secret_sealed, w.previous_secret_sealed,
       w.previous_secret_expires_at,
       (SELECT min(a.started_at) FROM ${table.delivery_attempts} a WHERE a.delivery_id = d.delivery_id)
         AS first_attempt_at
     FROM ${table.deliveries} d
     JOIN ${table.webhooks} w ON w.webhook_id = d.webhook_id
     LEFT JOIN ${table.events} e ON e.event_id = d.event_id
     WHERE d.delivery_id = $1`,
    [deliveryId],
  );
  const r = rows[0];
  if (!r?.body) return null;
  return {
    delivery_id: r.delivery_id,
    status: r.status,
    attempts: r.attempts,
    created_at: r.created_at,
    event_created_at: r.event_created_at,
    event_id: r.event_id,
    body: r.body,
    first_attempt_at: r.first_attempt_at,
    webhook: {
      webhook_id: r.webhook_id,
      url: r.url,
      status: r.webhook_status,
      secret_sealed: r.secret_sealed,
      previous_secret_sealed: r.previous_secret_sealed,
      previous_secret_expires_at: r.previous_secret_expires_at,
    },
  };
}

export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export type AttemptOutcome =
  | { kind: 'succeeded' }
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed' }
  /** Another attempt got there first (a duplicate job): nothing recorded. */
  | { kind: 'stale' };

/** One attempt to record: the delivery, the attempt number its row expects, what happened, what next. */
export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  result: AttemptResult;
  next: Exclude<AttemptOutcome, { kind: 'stale' }>;
}

/** The CTEs that record attempts ($1-$9) and hand claimed first attempts back ($10); see recordAttempts. */
const RECORD_CTES = `input AS (
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::double precision[],
         $7::timestamptz[], $8::int[], $9::boolean[])
         AS x(delivery_id, attempt, status, status_code, error, delay_ms, started_at, duration_ms, gone)
     ), moved AS (
       UPDATE ${table.deliveries} d SET attempts = i.attempt, status = i.status,
         last_status_code = i.status_code, last_error = i.error,
         next_attempt_at = CASE WHEN i.status = 'PENDING'
           THEN now() + make_interval(secs => i.delay_ms / 1000) END,
         claimed_until = NULL,
         delivered_at = CASE WHEN i.status = 'SUCCEEDED' THEN now() END
       FROM input i
       -- By primary key: the batch's own rows, however many are PENDING.
       WHERE d.delivery_id = ANY($1::uuid[]) AND d.delivery_id = i.delivery_id AND d.status = 'PENDING'
         AND d.attempts = i.attempt - 1
       RETURNING d.delivery_id, d.webhook_id
     ), recorded AS (
       INSERT INTO ${table.delivery_attempts} (delivery_id, attempt, started_at, duration_ms, status_code, error)
       SELECT i.delivery_id, i.attempt, i.started_at, i.duration_ms, i.status_code, i.error
       FROM input i JOIN moved m ON m.delivery_id = i.delivery_id
     ), disabled AS (
       UPDATE ${table.webhooks} SET status = 'DISABLED', updated_at = now()
       WHERE webhook_id IN (SELECT m.webhook_id FROM moved m JOIN input i ON i.delivery_id = m.delivery_id WHERE i.gone)
     ), released AS (
       -- By primary key too: a delivery leaves attempts = 0 only by a recorded attempt, so it is still
       -- PENDING (a guard on status would let the planner pick the first attempts' index and read them all).
       -- Its lease ends: due again at once, at its old place in the line.
       UPDATE ${table.deliveries} SET claimed_until = NULL
       WHERE delivery_id = ANY($10::uuid[]) AND attempts = 0
     )`;

function recordParams(records: AttemptRecord[], release: string[]): unknown[] {
  const status = (r: AttemptRecord) =>
    r.next.kind === 'succeeded' ? 'SUCCEEDED' : r.next.kind === 'retry' ? 'PENDING' : 'FAILED';
  return [
    records.map((r) => r.deliveryId),
    records.map((r) => r.attempt),
    records.map(status),
    records.map((r) => r.result.statusCode),
    records.map((r) => r.result.error),
    records.map((r) => (r.next.kind === 'retry' ? r.next.delayMs : 0)),
    records.map((r) => r.result.startedAt),
    records.map((r) => r.result.durationMs),
    records.map((r) => r.next.kind === 'gone'),
    release,
  ];
}

/**
 * Records attempts and moves their deliveries on, all in one statement (the deliveries' update, one
 * multi-row insert of the attempts and, on a 410, the webhook's disabling), and hands the first attempts
 * in `release` back (claimed but never sent: due again at once). Only the attempt a row expects is
 * recorded, so a duplicate job (a stalled job run twice) changes nothing: the ids returned are those
 * recorded.
 */
export async function recordAttempts(
  pool: Pool,
  records: AttemptRecord[],
  release: string[] = [],
): Promise<Set<string>> {
  if (records.length === 0 && release.length === 0) return new Set();
  const { rows } = await pool.query<{ delivery_id: string }>(
    `WITH ${RECORD_CTES}
     SELECT delivery_id FROM moved`,
    recordParams(records, release),
  );
  return new Set(rows.map((r) => r.delivery_id));
}

/** Records attempt number `attempt` of one delivery (see recordAttempts); `stale` when it was not expected. */
export async function recordAttempt(pool: Pool, input: AttemptRecord): Promise<AttemptOutcome> {
  const recorded = await recordAttempts(pool, [input]);
  return recorded.has(input.deliveryId) ? input.next : { kind: 'stale' };
}

/** First attempts claimed for one webhook: the webhook as it is now and each delivery's exact body. */
export interface ClaimedBatch {
  webhook: AttemptContext['webhook'];
  deliveries: { delivery_id: string; event_id: string; event_created_at: Date; body: string }[];
}

/**
 * Event bodies as PostgreSQL renders the stored envelope (`payload::text`), kept by the process that
 * stored the events so that a claim need not read and render every event once per webhook. A miss
 * (another process stored it, or it was evicted) is read from the events table.
 */
export interface EventBodies {
  get(eventId: string): string | undefined;
  set(eventId: string, body: string): void;
}

/** The most recently stored bodies, up to `maxChars` characters in all (the oldest go first). */
export function eventBodyCache(maxChars = 16 * 1024 * 1024): EventBodies {
  const bodies = new Map<string, string>();
  let chars = 0;
  return {
    get: (eventId) => bodies.get(eventId),
    set(eventId, body) {
      if (body.length > maxChars || bodies.has(eventId)) return;
      bodies.set(eventId, body);
      chars += body.length;
      for (const [id, old] of bodies) {
        if (chars <= maxChars) break;
        bodies.delete(id);
        chars -= old.length;
      }
    },
  };
}

/**
 * The claim (parameters $n webhook, $n+1 limit, $n+2 lease in ms): up to `limit` due, unclaimed first attempts of an
 * enabled webhook get `claimed_until` = now + lease. SKIP LOCKED, and a row claimed meanwhile fails the
 * re-check of its newest version, so concurrent claimers never share one. `claimed_until` is in no index
 * and the table keeps free space on its pages: the claim is a HOT update.
 */
const claimCte = (n: number) => `claimed AS (
       UPDATE ${table.deliveries} d
       SET claimed_until = now() + make_interval(secs => $${n + 2}::double precision / 1000)
       WHERE d.delivery_id IN (
         SELECT c.delivery_id FROM ${table.deliveries} c
         WHERE c.webhook_id = $${n} AND c.status = 'PENDING' AND c.attempts = 0 AND c.next_attempt_at <= now()
           AND (c.claimed_until IS NULL OR c.claimed_until <= now())
           AND EXISTS (SELECT 1 FROM ${table.webhooks} w WHERE w.webhook_id = $${n} AND w.status = 'ENABLED')
         ORDER BY c.next_attempt_at
         LIMIT $${n + 1}
         FOR UPDATE SKIP LOCKED)
       RETURNING d.delivery_id, d.event_id, d.payload, d.event_created_at, d.webhook_id
     )`;

/** The claimed rows with their webhook; the body only where the delivery carries its own (a ping). */
const CLAIMED_COLUMNS = `c.delivery_id, c.event_id, c.event_created_at, c.payload::text AS own_body,
       w.webhook_id, w.url, w.status AS webhook_status, w.secret_sealed, w.previous_secret_sealed,
       w.previous_secret_expires_at`;

type ClaimedRow = Omit<ClaimedBatch['deliveries'][number], 'body'> &
  Omit<AttemptContext['webhook'], 'status'> & {
    webhook_status: WebhookRow['status'];
    own_body: string | null;
  };

function claimParams(webhookId: string, limit: number, leaseMs: number): unknown[] {
  return [webhookId, limit, leaseMs];
}

/** The claimed rows as a batch, each with its body (the cache, else one read of the events missed). */
async function toBatch(
  pool: Pool,
  rows: ClaimedRow[],
  bodies: EventBodies | undefined,
): Promise<ClaimedBatch | null> {
  const first = rows[0];
  if (!first) return null;
  const body = new Map<string, string>();
  const missing: string[] = [];
  for (const r of rows) {
    if (r.own_body !== null) continue;
    const cached = bodies?.get(r.event_id);
    if (cached !== undefined) body.set(r.event_id, cached);
    else missing.push(r.event_id);
  }
  if (missing.length > 0) {
    const { rows: found } = await pool.query<{ event_id: string; body: string }>(
      `SELECT event_id, payload::text AS body FROM ${table.events} WHERE event_id = ANY($1::uuid[])`,
      [missing],
    );
    for (const f of found) {
      body.set(f.event_id, f.body);
      bodies?.set(f.event_id, f.body);
    }
  }
  return {
    webhook: {
      webhook_id: first.webhook_id,
      url: first.url,
      status: first.webhook_status,
      secret_sealed: first.secret_sealed,
      previous_secret_sealed: first.previous_secret_sealed,
      previous_secret_expires_at: first.previous_secret_expires_at,
    },
    // A delivery whose event is gone (retention) has no body: it stays claimed and the lease runs out.
    deliveries: rows.flatMap((r) => {
      const b = r.own_body ?? body.get(r.event_id);
      return b === undefined
        ? []
        : [
            {
              delivery_id: r.delivery_id,
              event_id: r.event_id,
              event_created_at: r.event_created_at,
              body: b,
            },
          ];
    }),
  };
}

/**
 * Claims up to `limit` due first attempts of an enabled webhook for `leaseMs`: concurrent claimers
 * (SKIP LOCKED) and the sweeper leave them alone while they are sent; if the claimer dies they are due
 * again when the lease runs out. Null when none is due.
 */
export async function claimFirstAttempts(
  pool: Pool,
  webhookId: string,
  limit: number,
  leaseMs: number,
  bodies?: EventBodies,
): Promise<ClaimedBatch | null> {
  const { rows } = await pool.query<ClaimedRow>(
    `WITH ${claimCte(1)}
     SELECT ${CLAIMED_COLUMNS}
     FROM claimed c JOIN ${table.webhooks} w ON w.webhook_id = c.webhook_id`,
    claimParams(webhookId, limit, leaseMs),
  );
  return toBatch(pool, rows, bodies);
}

/**
 * Records a batch's attempts (as recordAttempts, nothing handed back) and claims the webhook's next
 * batch (as claimFirstAttempts) in one statement: one round trip and one commit per batch instead of two.
 */
export async function recordAndClaim(
  pool: Pool,
  records: AttemptRecord[],
  claim: { webhookId: string; limit: number; leaseMs: number; bodies?: EventBodies | undefined },
): Promise<{ recorded: Set<string>; next: ClaimedBatch | null }> {
  // One row per recorded delivery (`recorded` true, the rest null), then one per claimed delivery.
  const { rows } = await pool.query<ClaimedRow & { recorded: boolean }>(
    `WITH ${RECORD_CTES}, ${claimCte(11)}
     SELECT m.delivery_id, true AS recorded, NULL::uuid AS event_id, NULL::timestamptz AS event_created_at,
       NULL::text AS own_body, NULL::uuid AS webhook_id, NULL::text AS url, NULL::text AS webhook_status,
       NULL::text AS secret_sealed, NULL::text AS previous_secret_sealed,
       NULL::timestamptz AS previous_secret_expires_at
     FROM moved m
     UNION ALL
     SELECT c.delivery_id, false, c.event_id, c.event_created_at, c.payload::text, w.webhook_id, w.url,
       w.status, w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at
     FROM claimed c JOIN ${table.webhooks} w ON w.webhook_id = c.webhook_id`,
    [...recordParams(records, []), ...claimParams(claim.webhookId, claim.limit, claim.leaseMs)],
  );
  const recorded = new Set<string>();
  const claimed: ClaimedRow[] = [];
  for (const r of rows) {
    if (r.recorded) recorded.add(r.delivery_id);
    else claimed.push(r);
  }
  return { recorded, next: await toBatch(pool, claimed, claim.bodies) };
}

/**
 * PENDING deliveries of enabled webhooks due (and not claimed) for a while: their job may be missing
 * (Redis lost it, or the process died between commit and enqueue), or their claimer died. Enqueuing them again is harmless: job ids are per attempt.
 */
export async function overdueDeliveries(
  pool: Pool,
  graceSeconds: number,
  limit = 1_000,
): Promise<NewDelivery[]> {
  const { rows } = await pool.query<NewDelivery>(
    `SELECT d.delivery_id, d.webhook_id, d.attempts FROM ${table.deliveries} d
     JOIN ${table.webhooks} w ON w.webhook_id = d.webhook_id AND w.status = 'ENABLED'
     WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() - make_interval(secs => $1)
       AND (d.claimed_until IS NULL OR d.claimed_until <= now() - make_interval(secs => $1))
     ORDER BY d.next_attempt_at LIMIT $2`,
    [graceSeconds, limit],
  );
  return rows;
}
