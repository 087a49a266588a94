// A partner's REST hold (issuance's `createReservation` command), once per Idempotency-Key. Holds on one
// pool may be decided together (`holdTogether`, fed by the hold coalescer): one transaction, one
// conditional pool update for the whole group, each hold keeping its own reservation row, ledger row and
// idempotency record. The pool row's lock is then taken, and its WAL flushed, once per group instead of
// once per hold, which is what bounds holds/s on a hot pool.
import { randomUUID } from 'node:crypto';
import {
  AppError,
  type CreateReservationBody,
  claimReplies,
  idempotencyKeyOf,
  idempotencyKeyStore,
  idempotent,
  type Outcome,
  type Pool,
  type PoolClient,
  type Refusal,
  recordReplies,
  refusalError,
  refuse,
  releaseClaims,
  withTransaction,
} from '@cruise/shared';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';
import { findProduct } from './catalogue.ts';
import { expireStaleHolds } from './expiry.ts';
import { admitHolds, findPool } from './pools.ts';
import type { PricedOrder } from './pricing.ts';
import {
  insertReservations,
  insufficientInventory,
  priceReservation,
  type ReservationView,
  type ReserveInput,
  reserve,
  toReservationView,
} from './reservations.ts';

/** The operation the Idempotency-Key's request hash names (the same for one hold and a group). */
const OPERATION = 'createReservation';

/** The Idempotency-Key replies, the store `idempotent()` uses (one store for one hold and a group). */
const holdReplies = idempotencyKeyStore(INVENTORY_SCHEMA);

/** A keyed hold's reply key, as `idempotent()` names it (scope the partner, the request its body). */
function replyKey(hold: PartnerHold, key: string) {
  return idempotencyKeyOf({ scope: hold.partnerId, key, operation: OPERATION, request: hold.body });
}

export interface PartnerHold {
  partnerId: string;
  /** The request's Idempotency-Key, if it had one. */
  key: string | undefined;
  body: CreateReservationBody;
  holdSeconds: number;
  /** When the request arrived: the reservation's `created_at`, its expiry counted from it. */
  now: Date;
}

export type HoldAnswer = Outcome<{ status: number; reservation: ReservationView; replayed: boolean }>;

/** Holds on the same pool (the partner's ota pool of the product) can share a group. */
export function poolKey(hold: PartnerHold): string {
  return `${hold.partnerId}:${hold.body.product_id}`;
}

function reserveInput(hold: PartnerHold): ReserveInput {
  return {
    partnerId: hold.partnerId,
    productId: hold.body.product_id,
    visitDate: hold.body.visit_date,
    resellerId: hold.body.reseller_id ?? null,
    resellerReference: hold.body.reseller_reference ?? null,
    items: hold.body.items,
    holdSeconds: hold.holdSeconds,
    now: hold.now,
  };
}

/** An expected refusal travels back as a value; anything else stays a failure. */
function asRefusal(err: unknown): Refusal {
  if (err instanceof AppError && err.status < 500) return refuse(err.code, err.message, err.extensions);
  throw err;
}

/** One hold in its own transaction, under its Idempotency-Key; a refusal keeps the key reusable. */
export async function holdOne(pool: Pool, hold: PartnerHold): Promise<HoldAnswer> {
  try {
    const result = await idempotent<ReservationView>(
      pool,
      INVENTORY_SCHEMA,
      { scope: hold.partnerId, key: hold.key, operation: OPERATION, request: hold.body },
      async (client) => {
        const outcome = await reserve(client, reserveInput(hold));
        // Thrown so the transaction (and the idempotency record) rolls back; the key stays reusable.
        if (!outcome.ok) throw refusalError(outcome);
        return { status: 201, body: outcome.reservation };
      },
    );
    return { ok: true, status: result.status, reservation: result.body, replayed: result.replayed };
  } catch (err) {
    return asRefusal(err);
  }
}

/**
 * Holds on one pool (same partner, same product), in arrival order, in one transaction: every key locked
 * and looked up (replays answered from their records), each hold priced, the pool's expired holds
 * released, then one `admitHolds` that admits each hold only if it fits in what the earlier ones left,
 * and one insert each for the admitted reservations and their idempotency records. Refusals write
 * nothing. A failed transaction throws a GroupFailure; the caller decides what then (`holdTogether`).
 */
export async function holdGroup(pool: Pool, holds: PartnerHold[]): Promise<HoldAnswer[]> {
  const first = holds[0];
  if (!first) return [];
  if (holds.some((h) => poolKey(h) !== poolKey(first))) throw new Error('a group holds on one pool');
  const keys = holds.flatMap((h) => (h.key === undefined ? [] : [h.key]));
  if (new Set(keys).size !== keys.length) throw new Error('a group carries each Idempotency-Key once');

  let committing = false;
  try {
    return await withTransaction(pool, async (client) => {
      committing = false;
      const answers = await decideGroup(client, holds);
      committing = true; // every statement done: what fails from here on is the COMMIT
      return answers;
    });
  } catch (err) {
    throw new GroupFailure(err, committing && !rolledBack(err));
  }
}

/** A group's transaction failed; `inDoubt` when it failed at its COMMIT and may have committed. */
export class GroupFailure extends Error {
  readonly inDoubt: boolean;
  constructor(cause: unknown, inDoubt: boolean) {
    super(`a group of holds failed${inDoubt ? ' at its commit' : ''}`, { cause });
    this.inDoubt = inDoubt;
  }
}

/**
 * The server refused the transaction (a deadlock, a deferred constraint, a serialization failure), so it
 * did not commit. A lost connection (no SQLSTATE, or class 08/57/58/XX) leaves it unknown.
 */
function rolledBack(err: unknown): boolean {
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string' || typeof severity !== 'string') return false;
  return !['08', '57', '58', 'XX'].includes(code.slice(0, 2));
}

/** The group's statements (`holdGroup`'s transaction). */
async function decideGroup(client: PoolClient, holds: PartnerHold[]): Promise<HoldAnswer[]> {
  const first = holds[0]!;
  const productId = first.body.product_id;
  const answers: (HoldAnswer | undefined)[] = holds.map(() => undefined);
  // The keys claimed in the same store as `idempotent()` (one statement, in key order); a replay or a
  // reused key is answered from its record.
  const keyed = holds.flatMap((h, i) => (h.key === undefined ? [] : [{ i, key: replyKey(h, h.key) }]));
  const claims = await claimReplies<ReservationView>(
    client,
    holdReplies,
    keyed.map((k) => k.key),
  );
  const claimed: typeof keyed = [];
  keyed.forEach((keyedHold, k) => {
    const claim = claims[k]!;
    const { i } = keyedHold;
    if (claim.claimed) claimed.push(keyedHold);
    else if (claim.answer.ok) {
      const { status, body, replayed } = claim.answer;
      answers[i] = { ok: true, status, reservation: body, replayed };
    } else answers[i] = claim.answer;
  });

  const product = await findProduct(client, productId);
  const priced: { index: number; order: PricedOrder }[] = [];
  holds.forEach((h, i) => {
    if (answers[i]) return;
    if (!product) {
      answers[i] = refuse('UNKNOWN_PRODUCT', `Product ${productId} does not exist`);
      return;
    }
    const order = priceReservation(product, reserveInput(h));
    if (order.ok) priced.push({ index: i, order });
    else answers[i] = order;
  });
  if (priced.length > 0) await admit(client, holds, priced, answers);

  // Admitted holds' replies recorded, refused holds' claims given back (a refusal is never recorded).
  const decided = claimed.map(({ i, key }) => ({ key, answer: answers[i]! }));
  await recordReplies(
    client,
    holdReplies,
    decided.flatMap(({ key, answer }) =>
      answer.ok ? [{ ...key, status: answer.status, body: answer.reservation }] : [],
    ),
  );
  await releaseClaims(
    client,
    holdReplies,
    decided.flatMap(({ key, answer }) => (answer.ok ? [] : [key])),
  );
  return answers.map((a) => a!);
}

async function admit(
  client: PoolClient,
  holds: PartnerHold[],
  priced: { index: number; order: PricedOrder }[],
  answers: (HoldAnswer | undefined)[],
): Promise<void> {
  const { partnerId, body } = holds[0]!;
  const target = await findPool(client, body.product_id, 'ota', partnerId);
  if (!target) {
    for (const p of priced) answers[p.index] = insufficientInventory(body.product_id, 0);
    return;
  }
  await expireStaleHolds(client, target.id, new Date());
  const ids = priced.map(() => randomUUID());
  const admissions = await admitHolds(
    client,
    target.id,
    priced.map((p, k) => ({ quantity: p.order.quantity, reference: `reservation:${ids[k]}` })),
  );
  const held = priced.flatMap((p, k) => {
    const admission = admissions[k]!;
    if (!admission.admitted) {
      answers[p.index] = insufficientInventory(body.product_id, admission.left);
      return [];
    }
    const hold = holds[p.index]!;
    return [
      {
        index: p.index,
        id: ids[k]!,
        poolId: target.id,
        input: reserveInput(hold),
        priced: p.order,
        now: hold.now,
      },
    ];
  });
  const rows = await insertReservations(client, held);
  held.forEach((h, k) => {
    const reservation = toReservationView(rows[k]!, h.now);
    answers[h.index] = { ok: true, status: 201, reservation, replayed: false };
  });
}

/**
 * Holds on one pool, in arrival order, answered each on its own: one group transaction for the first
 * use of each Idempotency-Key; a key repeated inside the group waits for it and then runs alone (so it
 * replays the first's record, or is decided afresh if the first was refused). If the group transaction
 * fails (a deadlock, a constraint, a lost connection), none of it happened, and every hold is retried
 * alone: a valid hold never fails because another in its group did. Only a failure at the COMMIT that
 * the server did not answer (the connection lost) leaves it unknown whether the group committed: then
 * its holds fail rather than risk holding twice.
 */
export async function holdTogether(
  pool: Pool,
  holds: PartnerHold[],
  /** Told of a failed group: its size and whether its holds are retried alone (else they fail). */
  onGroupFailure?: (err: unknown, size: number, retried: boolean) => void,
): Promise<PromiseSettledResult<HoldAnswer>[]> {
  const seen = new Set<string>();
  const grouped: number[] = [];
  const later: number[] = [];
  holds.forEach((h, i) => {
    if (h.key !== undefined && seen.has(h.key)) later.push(i);
    else grouped.push(i);
    if (h.key !== undefined) seen.add(h.key);
  });
  const results: PromiseSettledResult<HoldAnswer>[] = new Array(holds.length);
  const alone = async (i: number) => {
    results[i] = await holdOne(pool, holds[i]!).then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    );
  };
  try {
    const answers = await holdGroup(
      pool,
      grouped.map((i) => holds[i]!),
    );
    grouped.forEach((i, k) => {
      results[i] = { status: 'fulfilled', value: answers[k]! };
    });
  } catch (err) {
    const inDoubt = err instanceof GroupFailure && err.inDoubt;
    onGroupFailure?.(err, grouped.length, !inDoubt);
    if (inDoubt) {
      // The group may have committed: retrying its holds could hold them twice. Each fails as a single
      // hold whose commit was lost would (the caller retries; a key makes that retry a replay).
      for (const i of grouped) results[i] = { status: 'rejected', reason: (err as GroupFailure).cause };
    } else {
      for (const i of grouped) await alone(i);
    }
  }
  for (const i of later) await alone(i);
  return results;
}
