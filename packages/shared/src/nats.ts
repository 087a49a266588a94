// NATS: connections, typed request/reply commands with timeouts, the JetStream event stream and
// durable consumers. A missing responder or a timeout becomes SERVICE_UNAVAILABLE, never a hang.
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  JSONCodec,
  type JsMsg,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
  type Subscription,
} from 'nats';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Config } from './config.ts';
import { AppError, type Refusal } from './errors.ts';
import { toAppError } from './http.ts';
import type { Logger } from './logger.ts';
import {
  type CommandName,
  type CommandReply,
  type CommandRequest,
  commands,
  type EventEnvelope,
  eventEnvelope,
  streamName,
  subject,
} from './messages.ts';
import { commandMetrics } from './metrics.ts';

export type { NatsConnection };

const codec = JSONCodec<unknown>();

/**
 * Servers and credentials from NATS_URL (`nats://user:password@host:4222`, comma-separated for a
 * cluster). The credentials are taken out of the URLs and passed as options, so they never appear in
 * server lists the client logs or reports; the first URL carrying them wins.
 */
export function natsServerOptions(natsUrl: string): { servers: string[]; user?: string; pass?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = natsUrl.split(',').map((raw) => {
    const trimmed = raw.trim();
    const withScheme = /^[a-z]+:\/\//i.test(trimmed) ? trimmed : `nats://${trimmed}`;
    const u = new URL(withScheme);
    if (u.username && user === undefined) {
      user = decodeURIComponent(u.username);
      pass = decodeURIComponent(u.password);
    }
    return `${u.protocol}//${u.host}`;
  });
  return { servers, ...(user !== undefined ? { user, pass } : {}) };
}

export async function connectNats(config: Pick<Config, 'NATS_URL'>, name: string): Promise<NatsConnection> {
  return connect({
    ...natsServerOptions(config.NATS_URL),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    timeout: 5_000,
  });
}

export async function pingNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) throw new Error('NATS connection closed');
  await nc.flush();
  await nc.rtt();
}

export interface CommandClient {
  send<N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandReply<N>>;
}

/**
 * Sends commands to other services. Replies are validated against the catalog; no responder, a
 * timeout or a disconnected NATS throws SERVICE_UNAVAILABLE (safe for the partner to retry).
 */
export function createCommandClient(
  nc: NatsConnection,
  prefix: string,
  timeoutMs: number,
  /** The service's /metrics registry: latency by command and outcome, timeouts. */
  registry?: Registry,
): CommandClient {
  const metrics = registry ? commandMetrics(registry) : undefined;
  return {
    async send(name, request) {
      const def = commands[name];
      const payload = def.request.parse(request);
      let raw: unknown;
      const started = performance.now();
      const observe = (outcome: 'ok' | 'refused' | 'unavailable') =>
        metrics?.duration.observe({ command: name, outcome }, (performance.now() - started) / 1000);
      try {
        const msg = await nc.request(subject(prefix, def.subject), codec.encode(payload), {
          timeout: timeoutMs,
        });
        raw = codec.decode(msg.data);
      } catch (err) {
        observe('unavailable');
        metrics?.timeouts.inc({ command: name });
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          `The ${def.subject.split('.')[0]} service did not answer; retry shortly`,
          {
            cause_code: (err as { code?: string }).code,
          },
        );
      }
      const parsed = def.reply.safeParse(raw);
      const ok = parsed.success && (parsed.data as { ok?: boolean }).ok !== false;
      observe(ok ? 'ok' : 'refused');
      if (!parsed.success) throw new AppError('INTERNAL_ERROR', `Malformed reply to ${def.subject}`);
      return parsed.data as never;
    },
  };
}

/** What answers one command: its validated request in, an `ok` reply or a refusal out. */
export type CommandHandler<N extends CommandName> = (
  request: z.output<(typeof commands)[N]['request']>,
) => Promise<Exclude<CommandReply<N>, Refusal> | Refusal>;

/** Answers one command in a queue group, so several instances share the load and each request gets one reply. */
export function respond<N extends CommandName>(
  nc: NatsConnection,
  prefix: string,
  name: N,
  queue: string,
  handler: CommandHandler<N>,
  log: Logger,
): Subscription {
  const def = commands[name];
  return nc.subscribe(subject(prefix, def.subject), {
    queue,
    callback: (err, msg) => {
      if (err) {
        log.error({ err, command: name }, 'command subscription error');
        return;
      }
      void (async () => {
        let answer: unknown;
        try {
          const parsed = def.request.safeParse(codec.decode(msg.data));
          answer = parsed.success
            ? await handler(parsed.data as never)
            : { ok: false, code: 'VALIDATION_FAILED', detail: parsed.error.message };
        } catch (e) {
          // Classified like an HTTP request's failure: a dependency outage (PostgreSQL restarting, a
          // dropped connection) is SERVICE_UNAVAILABLE, so the caller answers 503 and the client retries;
          // the caller's own bad input is its 4xx; anything else is INTERNAL_ERROR and says nothing more.
          const failure = toAppError(e);
          const passOn = failure.status < 500 || failure.code === 'SERVICE_UNAVAILABLE';
          if (passOn) log.warn({ err: e, command: name, code: failure.code }, 'command refused');
          else log.error({ err: e, command: name }, 'command handler failed');
          answer = {
            ok: false,
            code: passOn ? failure.code : 'INTERNAL_ERROR',
            detail: passOn ? failure.message : 'The command failed',
          };
        }
        if (msg.reply) msg.respond(codec.encode(answer));
      })();
    },
  });
}

/** Creates (or updates) the deployment's event stream. Every service calls it at start; it is idempotent. */
export async function ensureEventStream(nc: NatsConnection, prefix: string): Promise<string> {
  const jsm = await nc.jetstreamManager();
  const name = streamName(prefix);
  const cfg = {
    name,
    subjects: [subject(prefix, 'events.>')],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600 * 1000),
    duplicate_window: nanos(10 * 60 * 1000),
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, cfg);
  } catch (err) {
    if (
      (err as { code?: string }).code === '404' ||
      /stream not found/i.test(String((err as Error).message))
    ) {
      await jsm.streams.add(cfg).catch((e: Error) => {
        if (!/already in use/i.test(e.message)) throw e;
      });
    } else {
      throw err;
    }
  }
  return name;
}

export async function deleteEventStream(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(streamName(prefix)).catch(() => {});
}

/**
 * Publishes one event envelope, already serialised (the outbox stores it as JSON text, so it is never
 * parsed and re-encoded on the way out); the envelope id as message id makes JetStream drop a re-publish.
 */
export async function publishSerializedEvent(
  nc: NatsConnection,
  prefix: string,
  event: { id: string; subject: string; json: string },
) {
  const js = nc.jetstream();
  await js.publish(subject(prefix, event.subject), new TextEncoder().encode(event.json), {
    msgID: event.id,
    timeout: 5_000,
  });
}

/** Publishes an envelope object (tests and tools; services publish through their outbox). */
export async function publishEvent(
  nc: NatsConnection,
  prefix: string,
  envelope: EventEnvelope,
  name: string,
) {
  await publishSerializedEvent(nc, prefix, {
    id: envelope.id,
    subject: name,
    json: JSON.stringify(envelope),
  });
}

export interface EventConsumer {
  stop(): Promise<void>;
}

/** One event a consumer received: its subject (relative to the prefix) and its envelope. */
export interface ConsumedEvent {
  subject: string;
  envelope: EventEnvelope;
}

/**
 * A durable JetStream consumer: at-least-once delivery, so `handle` must be idempotent. A handler that
 * throws gets the message again after a back-off; nothing is acknowledged before it is handled.
 *
 * With `handleGroup`, events are handled in groups, like a group commit: while one group is being
 * handled, the messages that arrive meanwhile wait and form the next one (at most a fetch's 100), so a
 * quiet stream still has each event handled the moment it arrives and a busy one pays a transaction per
 * group instead of per event. The group's messages are acknowledged once it succeeds. A group that
 * fails is handled again event by event (`handle`), so one event that cannot be handled is retried on
 * its own back-off and does not hold back the others.
 */
export async function consumeEvents(opts: {
  nc: NatsConnection;
  prefix: string;
  durable: string;
  /** Relative filter, e.g. `events.issuance.>` (NATS 2.9: one filter per consumer). */
  filter: string;
  handle: (subject: string, envelope: EventEnvelope) => Promise<void>;
  handleGroup?: (events: ConsumedEvent[]) => Promise<void>;
  log: Logger;
}): Promise<EventConsumer> {
  const { nc, prefix, log } = opts;
  const stream = await ensureEventStream(nc, prefix);
  const jsm = await nc.jetstreamManager();
  const durable = `${prefix}_${opts.durable}`.replaceAll('.', '_');
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subject(prefix, opts.filter),
    ack_wait: nanos(30_000),
    max_deliver: -1,
    max_ack_pending: 1_000,
  });
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  // Short fetch rounds rather than an open-ended consume(): every message pulled is handled (or handed
  // back) before the loop checks for stop, so a stopping instance leaves nothing waiting out ack_wait.
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      // Group mode: the messages pulled and not yet handled, and the one loop handling them. `running`
      // changes in the same turn as the loop's last look at `waiting`, so a message never waits unseen.
      const waiting: JsMsg[] = [];
      let running = false;
      let handling = Promise.resolve();
      const kick = () => {
        if (running) return;
        running = true;
        handling = (async () => {
          try {
            while (waiting.length > 0) {
              const group = waiting.splice(0);
              if (stopping) for (const m of group) m.nak();
              else await handleGroup(group).catch((err) => log.warn({ err, durable }, 'event group failed'));
            }
          } finally {
            running = false;
          }
        })();
      };
      try {
        const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
        for await (const m of batch) {
          if (opts.handleGroup) {
            waiting.push(m);
            kick();
          } else if (stopping) m.nak();
          else await handleOne(m);
        }
      } catch (err) {
        if (stopping || nc.isClosed()) break;
        log.warn({ err, durable }, 'event fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        await handling;
      }
    }
  })();

  /** The message's event, or undefined (and the message terminated) if it can never be handled. */
  function read(m: JsMsg): ConsumedEvent | undefined {
    const parsed = eventEnvelope.safeParse(safeDecode(m.data));
    if (parsed.success) return { subject: m.subject.slice(prefix.length + 1), envelope: parsed.data };
    // A message that can never be handled must not block the ones behind it.
    log.error({ subject: m.subject, seq: m.seq }, 'malformed event envelope; terminated');
    m.term();
    return undefined;
  }

  async function handleOne(m: JsMsg, event = read(m)) {
    if (!event) return;
    try {
      await opts.handle(event.subject, event.envelope);
      m.ack();
    } catch (err) {
      log.warn(
        { err, subject: m.subject, redelivery: m.info.redeliveryCount },
        'event handling failed; will retry',
      );
      m.nak(Math.min(30_000, 500 * 2 ** Math.min(m.info.redeliveryCount, 6)));
    }
  }

  async function handleGroup(group: JsMsg[]) {
    const valid = group
      .map((m) => ({ m, event: read(m) }))
      .filter((x): x is { m: JsMsg; event: ConsumedEvent } => x.event !== undefined);
    if (valid.length === 1) return handleOne(valid[0]!.m, valid[0]!.event);
    if (valid.length === 0) return;
    try {
      await opts.handleGroup!(valid.map((x) => x.event));
      for (const { m } of valid) m.ack();
    } catch (err) {
      log.warn({ err, durable, events: valid.length }, 'event group failed; handling its events one by one');
      for (const { m, event } of valid) await handleOne(m, event);
    }
  }

  return {
    async stop() {
      stopping = true;
      await done.catch(() => {});
    },
  };
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return codec.decode(data);
  } catch {
    return undefined;
  }
}
