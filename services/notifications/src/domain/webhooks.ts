// Partner webhook subscriptions: create (the secret is returned once), read, change, delete, rotate.
// Every query names the partner: another partner's webhook is as unknown as a missing one.
import { randomUUID } from 'node:crypto';
import {
  type CreateWebhookBody,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  MAX_WEBHOOKS_PER_PARTNER,
  type Outcome,
  type PoolClient,
  type Queryable,
  refuse,
  type SecretSealer,
  type SqlRow,
  type UpdateWebhookBody,
  type Webhook,
} from '@cruise/shared';
import type { webhooks } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import { newWebhookSecret } from './signing.ts';
import { checkUrlShape, resolveDeliveryAddresses } from './url-safety.ts';

/** How long the secret replaced by a rotation keeps signing deliveries too. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export type WebhookRow = Omit<SqlRow<typeof webhooks>, 'updated_at'>;

const COLUMNS = `webhook_id, partner_id, url, events, description, status, secret_sealed, previous_secret_sealed,
  previous_secret_expires_at, created_at`;

export function toWebhook(row: WebhookRow): Webhook {
  return {
    webhook_id: row.webhook_id,
    url: row.url,
    events: row.events,
    description: row.description,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

/** Duplicates removed; `*` alone when it is among them. */
function normaliseEvents(events: string[]): string[] {
  return events.includes('*') ? ['*'] : [...new Set(events)];
}

/** The save-time URL check; DNS is consulted only where private addresses are refused. */
export async function checkWebhookUrl(
  raw: string,
  allowPrivate: boolean,
): Promise<Outcome<{ url: string }, 'VALIDATION_FAILED'>> {
  const shape = checkUrlShape(raw, allowPrivate);
  if (!shape.ok) return refuse('VALIDATION_FAILED', `url: ${shape.reason}`);
  if (!allowPrivate) {
    const resolved = await resolveDeliveryAddresses(shape.url, false);
    if (!resolved.ok) return refuse('VALIDATION_FAILED', `url: ${resolved.reason}`);
  }
  return { ok: true, url: shape.url.toString() };
}

/** Inside the caller's transaction (the Idempotency-Key one). The plain secret is returned once. */
export async function createWebhook(
  client: PoolClient,
  sealer: SecretSealer,
  partnerId: string,
  body: CreateWebhookBody,
  allowPrivate: boolean,
): Promise<Outcome<{ webhook: Webhook; secret: string }, 'VALIDATION_FAILED'>> {
  const url = await checkWebhookUrl(body.url, allowPrivate);
  if (!url.ok) return url;
  // Serialises one partner's creations so the limit holds under concurrent requests.
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('notifications:webhooks:' || $1, 0))`, [
    partnerId,
  ]);
  const { rows: count } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table.webhooks} WHERE partner_id = $1`,
    [partnerId],
  );
  if (count[0]!.n >= MAX_WEBHOOKS_PER_PARTNER) {
    return refuse(
      'VALIDATION_FAILED',
      `A partner has at most ${MAX_WEBHOOKS_PER_PARTNER} webhooks; delete one first`,
    );
  }
  const secret = newWebhookSecret();
  const { rows } = await client.query<WebhookRow>(
    `INSERT INTO ${table.webhooks} (webhook_id, partner_id, url, events, description, status, secret_sealed)
     VALUES ($1, $2, $3, $4, $5, 'ENABLED', $6) RETURNING ${COLUMNS}`,
    [
      randomUUID(),
      partnerId,
      url.url,
      normaliseEvents(body.events),
      body.description ?? null,
      sealer.seal(secret),
    ],
  );
  return { ok: true, webhook: toWebhook(rows[0]!), secret };
}

/** A partner's webhooks, newest first (at most MAX_WEBHOOKS_PER_PARTNER: usually one page). */
export const WEBHOOKS_NEWEST_FIRST = new Keyset(
  'webhooks',
  [
    { sql: 'w.created_at', type: 'timestamptz' },
    { sql: 'w.webhook_id', type: 'uuid' },
  ],
  // The (partner_id, created_at) index, read backwards.
  { nullsLast: false },
);

export async function listWebhooks(
  db: Queryable,
  partnerId: string,
  q: ListQuery,
): Promise<Outcome<{ page: ListPage<Webhook> }, 'VALIDATION_FAILED'>> {
  return WEBHOOKS_NEWEST_FIRST.list(
    db,
    q,
    { from: table.webhooks, alias: 'w', where: 'w.partner_id = $1', select: COLUMNS },
    [partnerId],
    (r: WebhookRow & KeyedRow) => toWebhook(r),
  );
}

export async function readWebhook(db: Queryable, partnerId: string, webhookId: string) {
  const { rows } = await db.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM ${table.webhooks} WHERE webhook_id = $1 AND partner_id = $2`,
    [webhookId, partnerId],
  );
  return rows[0] ?? null;
}

const noSuchWebhook = () => refuse('NOT_FOUND', 'No such webhook');

export async function updateWebhook(
  db: Queryable,
  partnerId: string,
  webhookId: string,
  body: UpdateWebhookBody,
  allowPrivate: boolean,
): Promise<Outcome<{ webhook: Webhook }, 'NOT_FOUND' | 'VALIDATION_FAILED'>> {
  let url: string | null = null;
  if (body.url !== undefined) {
    const checked = await checkWebhookUrl(body.url, allowPrivate);
    if (!checked.ok) return checked;
    url = checked.url;
  }
  const { rows } = await db.query<WebhookRow>(
    `UPDATE ${table.webhooks} SET url = COALESCE($3, url), events = COALESCE($4, events),
       description = CASE WHEN $5 THEN $6 ELSE description END, status = COALESCE($7, status), updated_at = now()
     WHERE webhook_id = $1 AND partner_id = $2 RETURNING ${COLUMNS}`,
    [
      webhookId,
      partnerId,
      url,
      body.events ? normaliseEvents(body.events) : null,
      body.description !== undefined,
      body.description ?? null,
      body.status ?? null,
    ],
  );
  return rows[0] ? { ok: true, webhook: toWebhook(rows[0]) } : noSuchWebhook();
}

/** Deletes the webhook; its deliveries (pending ones included) go with it (foreign key cascade). */
export async function deleteWebhook(db: Queryable, partnerId: string, webhookId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM ${table.webhooks} WHERE webhook_id = $1 AND partner_id = $2`,
    [webhookId, partnerId],
  );
  return (rowCount ?? 0) > 0;
}

/** A new secret; the one it replaces keeps signing for ROTATION_OVERLAP_MS. */
export async function rotateSecret(
  db: Queryable,
  sealer: SecretSealer,
  partnerId: string,
  webhookId: string,
  now: Date = new Date(),
): Promise<Outcome<{ secret: string }, 'NOT_FOUND'>> {
  const secret = newWebhookSecret();
  const { rowCount } = await db.query(
    `UPDATE ${table.webhooks} SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $3,
       secret_sealed = $4, updated_at = now()
     WHERE webhook_id = $1 AND partner_id = $2`,
    [webhookId, partnerId, new Date(now.getTime() + ROTATION_OVERLAP_MS), sealer.seal(secret)],
  );
  return rowCount ? { ok: true, secret } : noSuchWebhook();
}

/** The secrets a delivery is signed with now: the current one, and the previous one while it overlaps. */
export function signingSecrets(
  row: Pick<WebhookRow, 'secret_sealed' | 'previous_secret_sealed' | 'previous_secret_expires_at'>,
  sealer: SecretSealer,
  now: Date,
): string[] {
  const secrets = [sealer.open(row.secret_sealed)];
  if (row.previous_secret_sealed && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
    secrets.push(sealer.open(row.previous_secret_sealed));
  }
  return secrets;
}
