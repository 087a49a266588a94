import type { ActorKind } from '@cruise/shared';
import { bigserial, index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from './gateway-schema.ts';

/**
 * One row per audited request (partner, webhook, operator, scanner and QR traffic), written in
 * batches after the response. No foreign keys: a log must accept whatever happened.
 */
export const auditLog = gatewaySchema.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** When the request arrived. */
    at: timestamp('at', { withTimezone: true }).notNull(),
    requestId: text('request_id').notNull(),
    /** partner | admin | device | webhook | anonymous (see the contract's `actorKind`). */
    actorKind: text('actor_kind').$type<ActorKind>().notNull(),
    /** The authenticated partner, when the caller was one. */
    partnerId: uuid('partner_id'),
    method: text('method').notNull(),
    /** The matched route pattern (`/api/ota/tickets/:ticket_code`); null when nothing matched. */
    route: text('route'),
    /** The request path without its query string. */
    path: text('path').notNull(),
    status: integer('status').notNull(),
    durationMs: integer('duration_ms').notNull(),
    clientIp: text('client_ip'),
  },
  (t) => [
    index('audit_log_partner_at_idx').on(t.partnerId, t.at.desc(), t.id.desc()),
    index('audit_log_at_idx').on(t.at.desc(), t.id.desc()),
  ],
);
