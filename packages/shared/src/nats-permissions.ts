// Who may do what on NATS: one user per service, allowed to request only the commands it sends, to
// answer only its own commands, to publish only its own events, and to use only the JetStream API
// calls its stream and its durable consumer need. `renderNatsConfig` turns this table (and the command
// catalogue in messages.ts) into the nats-server configuration; deploy/nats.conf is its rendering for
// the default prefix, and the permissions test starts a nats-server with a rendering for its own.
import { type CommandName, commands, streamName, subject } from './messages.ts';

export type NatsServiceUser = 'gateway' | 'inventory' | 'issuance' | 'redemption' | 'notifications' | 'octo';

interface Usage {
  /** Commands this service sends (request/reply). */
  requests: CommandName[];
  /** Commands this service answers (it subscribes to their subjects and may reply once). */
  answers: CommandName[];
  /** Its own event subjects (`events.<service>.>`), or none. */
  publishesEvents: boolean;
  /** Its durable JetStream consumer (`consumeEvents`' `durable`), if any. */
  durable?: string;
  /** Creates or updates the event stream at start (`ensureEventStream`). */
  managesStream: boolean;
}

const ownedBy = (service: string) =>
  (Object.keys(commands) as CommandName[]).filter((n) => commands[n].subject.startsWith(`${service}.`));

export const NATS_USAGE: Record<NatsServiceUser, Usage> = {
  // The gateway only checks that NATS answers (readiness): no subject at all.
  gateway: { requests: [], answers: [], publishesEvents: false, managesStream: false },
  // Inventory answers; it never asks another service (no runtime cycle: issuance and octo ask it).
  inventory: {
    requests: [],
    answers: ownedBy('inventory'),
    publishesEvents: true,
    managesStream: true,
  },
  issuance: {
    requests: [
      // The partner's reservation routes: issuance checks the reseller, then inventory holds.
      'createReservation',
      'partnerReservation',
      'getReservation',
      'confirmHold',
      'holdBatch',
      'sellHeld',
      'release',
      'directSale',
      'listPools',
      // An on-account confirm reads the reservation; cancelling a confirmed one closes it afterwards.
      'readReservations',
      'closeReservation',
    ],
    answers: ownedBy('issuance'),
    publishesEvents: true,
    durable: 'issuance',
    managesStream: true,
  },
  redemption: {
    requests: ['ticketSnapshot'],
    answers: [],
    publishesEvents: true,
    durable: 'redemption',
    managesStream: true,
  },
  // Consumes the partner events of every service; sends and answers no command, publishes no event.
  notifications: {
    requests: [],
    answers: [],
    publishesEvents: false,
    durable: 'notifications',
    managesStream: true,
  },
  // The OCTO adapter only asks: inventory for the catalogue, pools and holds, issuance for sales.
  octo: {
    requests: [
      'catalogue',
      'listPools',
      'holdReservation',
      'extendHold',
      'cancelHold',
      'readReservations',
      'confirmOnAccount',
      'cancelReservationTickets',
      'reservationTickets',
    ],
    answers: [],
    publishesEvents: false,
    managesStream: false,
  },
};

/** The environment variable holding a service's NATS password (nats-server reads it as `$NAME`). */
export function natsPasswordVariable(service: NatsServiceUser): string {
  return `NATS_${service.toUpperCase()}_PASSWORD`;
}

/** The durable consumer name `consumeEvents` creates for `durable` under `prefix`. */
export function durableName(prefix: string, durable: string): string {
  return `${prefix}_${durable}`.replaceAll('.', '_');
}

/** Subjects a service may publish to and subscribe to. */
export function natsPermissions(
  prefix: string,
  service: NatsServiceUser,
): { publish: string[]; subscribe: string[]; allowResponses: boolean } {
  const usage = NATS_USAGE[service];
  const stream = streamName(prefix);
  const publish = usage.requests.map((n) => subject(prefix, commands[n].subject));
  const subscribe = usage.answers.map((n) => subject(prefix, commands[n].subject));
  if (usage.publishesEvents) publish.push(subject(prefix, `events.${service}.>`));
  if (usage.managesStream) {
    publish.push(
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${stream}`,
      `$JS.API.STREAM.CREATE.${stream}`,
      `$JS.API.STREAM.UPDATE.${stream}`,
    );
  }
  if (usage.durable) {
    const d = durableName(prefix, usage.durable);
    publish.push(
      `$JS.API.CONSUMER.CREATE.${stream}.${d}`,
      `$JS.API.CONSUMER.CREATE.${stream}.${d}.>`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${d}`,
      `$JS.API.CONSUMER.INFO.${stream}.${d}`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${d}`,
      `$JS.ACK.${stream}.${d}.>`,
    );
  }
  // Replies to its own requests (and JetStream's answers) come back on inboxes.
  if (publish.length > 0) subscribe.push('_INBOX.>');
  return { publish, subscribe, allowResponses: usage.answers.length > 0 };
}

const quote = (s: string) => JSON.stringify(s);
const list = (items: string[]) => `[${items.map(quote).join(', ')}]`;

/** The nats-server configuration for a deployment whose subjects start with `prefix`. */
export function renderNatsConfig(prefix: string): string {
  const users = (Object.keys(NATS_USAGE) as NatsServiceUser[]).map((service) => {
    const p = natsPermissions(prefix, service);
    const rule = (allow: string[]) => (allow.length ? `{ allow: ${list(allow)} }` : '{ deny: [">"] }');
    return [
      `    {`,
      `      user: ${quote(service)}`,
      `      password: $${natsPasswordVariable(service)}`,
      `      permissions: {`,
      `        publish: ${rule(p.publish)}`,
      `        subscribe: ${rule(p.subscribe)}`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return [
    `# GENERATED by \`pnpm nats-conf\` (scripts/render-nats-conf.ts) from packages/shared/src/nats-permissions.ts`,
    `# for NATS_PREFIX=${prefix}. Do not edit: change the table there and render again (a test compares).`,
    `# Passwords come from the environment (${(Object.keys(NATS_USAGE) as NatsServiceUser[]).map(natsPasswordVariable).join(', ')}).`,
    `# nats-server parses each as config: start it with a letter (n$(openssl rand -hex 32)); one starting with a digit is read as a number.`,
    `port: 4222`,
    `http_port: 8222`,
    `# JetStream's directory from the environment too (compose: /data, a test: its temp folder).`,
    `jetstream { store_dir: $NATS_STORE_DIR }`,
    `authorization {`,
    `  users: [`,
    users.join('\n'),
    `  ]`,
    `}`,
    ``,
  ].join('\n');
}
