// The manifest framework against the real PostgreSQL, Redis, NATS and HTTP: typed routes whose auth
// comes from the contract, idempotent routes, NATS responders and consumers, BullMQ job schedulers shared
// by replicas, and the shutdown order.
import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRoute, idempotencyHeaders, uuid } from '../contract/common.ts';
import { events } from '../messages.ts';
import { createCommandClient, ensureEventStream, publishEvent } from '../nats.ts';
import { bullPrefix, createRedis } from '../queues.ts';
import { closeServiceDeps, createServiceDeps, type ServiceDeps } from '../service.ts';
import { buildService } from './build.ts';
import {
  answer,
  consumer,
  defineService,
  type Handler,
  idempotentRoute,
  job,
  responder,
  route,
  worker,
} from './define.ts';

const migrations = { schema: 'gateway', folder: '/nonexistent' };

const partnerEcho = defineRoute({
  method: 'POST',
  path: '/t/partner/:item_id',
  operationId: 'testPartnerEcho',
  summary: 'test',
  tags: ['test'],
  auth: 'partner',
  service: 'gateway',
  params: z.object({ item_id: z.coerce.number().int() }),
  querystring: z.object({ verbose: z.enum(['yes', 'no']).default('no') }),
  body: z.object({ note: z.string().max(10) }),
  response: {
    200: z.object({ partner: z.string(), item: z.number(), note: z.string(), verbose: z.string() }),
  },
  errors: ['UNAUTHORIZED'],
});
const adminOnly = defineRoute({
  method: 'GET',
  path: '/t/admin',
  operationId: 'testAdmin',
  summary: 'test',
  tags: ['test'],
  auth: 'admin',
  service: 'gateway',
  response: { 200: z.object({ kind: z.literal('admin') }) },
  errors: ['UNAUTHORIZED'],
});
const either = defineRoute({
  method: 'DELETE',
  path: '/t/either',
  operationId: 'testEither',
  summary: 'test',
  tags: ['test'],
  auth: 'partner-or-admin',
  service: 'gateway',
  response: { 204: z.null() },
  errors: ['UNAUTHORIZED'],
});
const publicTeapot = defineRoute({
  method: 'GET',
  path: '/t/public',
  operationId: 'testPublic',
  summary: 'test',
  tags: ['test'],
  auth: 'public',
  service: 'gateway',
  response: { 200: z.object({ ok: z.boolean() }) },
  errors: [],
});
const createThing = defineRoute({
  method: 'POST',
  path: '/t/things',
  operationId: 'testCreateThing',
  summary: 'test',
  tags: ['test'],
  auth: 'partner',
  service: 'gateway',
  headers: idempotencyHeaders,
  body: z.object({ name: z.string() }),
  response: { 201: z.object({ thing_id: uuid, name: z.string(), secret: z.string() }) },
  errors: ['UNAUTHORIZED', 'IDEMPOTENCY_KEY_REUSED'],
});

interface TestCtx {
  created: number;
  committed: number;
}
const counts: TestCtx = { created: 0, committed: 0 };

const echo: Handler<typeof partnerEcho, TestCtx> = async ({ params, query, body, caller }) => ({
  partner: caller.partnerId,
  item: params.item_id,
  note: body.note,
  verbose: query.verbose,
});

const routesManifest = defineService<TestCtx>({
  name: 'gateway',
  schema: 'gateway',
  port: () => 0,
  migrations,
  context: () => counts,
  routes: [
    route(partnerEcho, echo),
    route(adminOnly, async ({ caller }) => ({ kind: caller.kind })),
    route(either, async () => undefined),
    route(publicTeapot, async () => answer(418, { ok: false })),
    idempotentRoute(
      createThing,
      async ({ body, tx, ctx, afterCommit }) => {
        ctx.created += 1;
        afterCommit(() => {
          ctx.committed += 1;
        });
        const { rows } = await tx.query<{ id: string }>('SELECT gen_random_uuid()::text AS id');
        return { thing_id: rows[0]!.id, name: body.name, secret: `s_${randomUUID()}` };
      },
      { sealed: { fields: ['secret'], purpose: 'test:things' } },
    ),
  ],
});

let tc: TestContext;
let deps: ServiceDeps;
beforeAll(async () => {
  tc = await createTestContext();
  deps = await createServiceDeps(tc.config, 'manifest-test');
});
afterAll(async () => {
  if (deps) await closeServiceDeps(deps);
  await tc?.cleanup();
});

const partner = (id: string) => ({ 'x-caller-kind': 'partner', 'x-partner-id': id });
const admin = { 'x-caller-kind': 'admin' };

describe('routes', () => {
  it('hands the handler typed, validated input and the partner the gateway vouched for', async () => {
    const app = injectAsGateway(
      await buildService(routesManifest, tc.config, deps, { logger: false }),
      tc.config.INTERNAL_TOKEN,
    );
    try {
      const id = randomUUID();
      const ok = await app.inject({
        method: 'POST',
        url: '/t/partner/42?verbose=yes',
        headers: partner(id.toUpperCase()),
        payload: { note: 'hi' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ partner: id, item: 42, note: 'hi', verbose: 'yes' });

      const invalid = await app.inject({
        method: 'POST',
        url: '/t/partner/42',
        headers: partner(id),
        payload: { note: 'far too long a note' },
      });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.headers['content-type']).toContain('application/problem+json');
      expect(invalid.json().code).toBe('VALIDATION_FAILED');
    } finally {
      await app.close();
    }
  });

  it("refuses callers the route's auth does not admit, before the body is read", async () => {
    const app = injectAsGateway(
      await buildService(routesManifest, tc.config, deps, { logger: false }),
      tc.config.INTERNAL_TOKEN,
    );
    try {
      // A partner route refuses the operator, an anonymous caller and a malformed partner identity,
      // even with a body that would not validate (the caller is checked first).
      for (const headers of [admin, {}, partner('not-a-uuid')]) {
        const res = await app.inject({ method: 'POST', url: '/t/partner/1', headers, payload: { x: 1 } });
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe('UNAUTHORIZED');
      }
      expect((await app.inject({ url: '/t/admin', headers: partner(randomUUID()) })).statusCode).toBe(401);
      expect((await app.inject({ url: '/t/admin' })).statusCode).toBe(401);
      expect((await app.inject({ url: '/t/admin', headers: admin })).json()).toEqual({ kind: 'admin' });
      expect((await app.inject({ method: 'DELETE', url: '/t/either' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'DELETE', url: '/t/either', headers: admin })).statusCode).toBe(204);
      const asPartner = await app.inject({
        method: 'DELETE',
        url: '/t/either',
        headers: partner(randomUUID()),
      });
      expect(asPartner.statusCode).toBe(204);
      expect(asPartner.body).toBe('');
      // A public route admits anyone; an explicit answer keeps its status.
      expect((await app.inject({ url: '/t/public' })).statusCode).toBe(418);
    } finally {
      await app.close();
    }
  });

  it('runs an idempotent route once per key, even concurrently, and stores its secret sealed', async () => {
    const app = injectAsGateway(
      await buildService(routesManifest, tc.config, deps, { logger: false }),
      tc.config.INTERNAL_TOKEN,
    );
    try {
      const owner = randomUUID();
      const key = `k-${randomUUID()}`;
      const send = (name: string) =>
        app.inject({
          method: 'POST',
          url: '/t/things',
          headers: { ...partner(owner), 'idempotency-key': key },
          payload: { name },
        });
      const before = { ...counts };
      const answers = await Promise.all(Array.from({ length: 8 }, () => send('boat')));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(201));
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);
      // The work ran (and its after-commit step) once; seven answers are marked as replays.
      expect(counts.created - before.created).toBe(1);
      expect(counts.committed - before.committed).toBe(1);
      expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
      const first = answers[0]!.json();
      expect(first.secret).toMatch(/^s_/);
      const { rows } = await deps.pool.query<{ body: { secret: string } }>(
        'SELECT body FROM gateway.idempotency_keys WHERE scope = $1 AND key = $2',
        [owner, key],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.body.secret).toMatch(/^sealed:v1:/);
      expect(rows[0]!.body.secret).not.toContain(first.secret);
      // The same key with another body is a reused key; another partner's same key is its own.
      expect((await send('ship')).json().code).toBe('IDEMPOTENCY_KEY_REUSED');
      const other = await app.inject({
        method: 'POST',
        url: '/t/things',
        headers: { ...partner(randomUUID()), 'idempotency-key': key },
        payload: { name: 'boat' },
      });
      expect(other.statusCode).toBe(201);
      expect(other.json().thing_id).not.toBe(first.thing_id);
    } finally {
      await app.close();
    }
  });
});

describe('messaging', () => {
  it('answers commands with a responder and feeds a consumer only the events it lists, parsed', async () => {
    const seen: Array<{ subject: string; codes: string[] }> = [];
    let consumed: () => void = () => {};
    const twoSeen = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    const snapshot = {
      ticket_code: 'T1',
      partner_id: null,
      channel: 'direct' as const,
      product_id: 106,
      product_name: 'Ferry',
      status: 'ACTIVE' as const,
      entitlements: [],
      revision: 1,
      created_at: new Date().toISOString(),
    };
    const manifest = defineService<{ label: string }>({
      name: 'manifest-messaging',
      schema: 'gateway',
      port: () => 0,
      migrations,
      context: () => ({ label: 'ctx' }),
      responders: [
        responder('ticketSnapshot', async (request, ctx) =>
          request.ticket_code === 'T1'
            ? { ok: true as const, ticket: { ...snapshot, product_name: ctx.label } }
            : { ok: false as const, code: 'NOT_FOUND' as const, detail: 'no such ticket' },
        ),
      ],
      consumers: [
        consumer({
          durable: 'manifest-test',
          filter: 'events.issuance.>',
          events: [events.ticketsIssued, events.ticketsCancelled],
          handle: async (data, meta) => {
            seen.push({ subject: meta.subject, codes: data.tickets.map((t) => t.ticket_code) });
            if (seen.length === 2) consumed();
          },
        }),
      ],
    });
    const app = await buildService(manifest, tc.config, deps, { logger: false });
    try {
      const commands = createCommandClient(deps.nc, tc.config.NATS_PREFIX, 5_000);
      const found = await commands.send('ticketSnapshot', { ticket_code: 'T1' });
      expect(found).toMatchObject({ ok: true, ticket: { ticket_code: 'T1', product_name: 'ctx' } });
      expect(await commands.send('ticketSnapshot', { ticket_code: 'T2' })).toMatchObject({
        ok: false,
        code: 'NOT_FOUND',
      });

      const envelope = (data: unknown) => ({
        id: randomUUID(),
        type: 'x',
        occurred_at: new Date().toISOString(),
        data,
      });
      const prefix = tc.config.NATS_PREFIX;
      await publishEvent(deps.nc, prefix, envelope({ tickets: [snapshot] }), events.ticketsIssued.subject);
      // Not listed (activated), and malformed: both skipped without blocking what follows.
      await publishEvent(deps.nc, prefix, envelope({ tickets: [snapshot] }), events.ticketsActivated.subject);
      await publishEvent(deps.nc, prefix, envelope({ tickets: 'nope' }), events.ticketsIssued.subject);
      await publishEvent(
        deps.nc,
        prefix,
        envelope({ tickets: [{ ...snapshot, ticket_code: 'T9' }] }),
        events.ticketsCancelled.subject,
      );
      await twoSeen;
      expect(seen).toEqual([
        { subject: events.ticketsIssued.subject, codes: ['T1'] },
        { subject: events.ticketsCancelled.subject, codes: ['T9'] },
      ]);
    } finally {
      await app.close();
    }
  });
  it('a group consumer takes what arrived while it worked as one group; a failed group is retried one by one', async () => {
    const prefix = tc.config.NATS_PREFIX;
    const run = randomUUID().slice(0, 8);
    const code = (name: string) => `${run}-${name}`;
    const codes = ['A', 'B', 'C', 'BAD', 'D', 'E'].map(code);
    // All six are in the stream before the consumer exists: it takes them in one fetch.
    const stream = await ensureEventStream(deps.nc, prefix);
    for (const ticket_code of codes) {
      await publishEvent(
        deps.nc,
        prefix,
        {
          id: randomUUID(),
          type: 'tickets.redeemed',
          occurred_at: new Date().toISOString(),
          data: { ticket_code, function_code: 'F', redeemed_at: new Date().toISOString() },
        },
        events.ticketRedeemed.subject,
      );
    }
    const calls: Array<{ codes: string[]; ok: boolean }> = [];
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const applied = new Set<string>();
    let allApplied: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      allApplied = resolve;
    });
    let poisonFailures = 0;
    const durable = `group-${run}`;
    const manifest = defineService<{ label: string }>({
      name: 'manifest-groups',
      schema: 'gateway',
      port: () => 0,
      migrations,
      context: () => ({ label: 'ctx' }),
      consumers: [
        consumer({
          durable,
          filter: 'events.redemption.>',
          events: [events.ticketRedeemed],
          handleGroup: async (group) => {
            const mine = group.map((e) => e.data.ticket_code).filter((c) => c.startsWith(run));
            if (mine.length === 0) return;
            if (calls.length === 0) await released; // the first group holds the others back
            // The poison event fails twice, then goes through.
            const fails = mine.includes(code('BAD')) && poisonFailures < 2;
            calls.push({ codes: mine.map((c) => c.slice(run.length + 1)), ok: !fails });
            if (fails) {
              poisonFailures++;
              throw new Error('poison');
            }
            for (const c of mine) applied.add(c);
            if (applied.size === codes.length) allApplied();
          },
        }),
      ],
    });
    const app = await buildService(manifest, tc.config, deps, { logger: false });
    try {
      // Released once JetStream has sent all six to this process (and its reads have run), so the five
      // behind the first are all waiting when the first group ends.
      const jsm = await deps.nc.jetstreamManager();
      const name = `${prefix}_${durable}`.replaceAll('.', '_');
      for (;;) {
        const info = await jsm.consumers.info(stream, name);
        if (info.num_pending === 0 && info.num_ack_pending >= codes.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setImmediate(r));
      release();
      await finished;
      expect(calls).toEqual([
        { codes: ['A'], ok: true },
        { codes: ['B', 'C', 'BAD', 'D', 'E'], ok: false },
        { codes: ['B'], ok: true },
        { codes: ['C'], ok: true },
        { codes: ['BAD'], ok: false },
        { codes: ['D'], ok: true },
        { codes: ['E'], ok: true },
        { codes: ['BAD'], ok: true },
      ]);
      // Everything handled was acknowledged: nothing is left for a redelivery.
      for (;;) {
        const info = await jsm.consumers.info(stream, name);
        if (info.num_ack_pending === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await app.close();
    }
  });
});

describe('jobs', () => {
  it('a job scheduler shared by two instances runs each iteration once', async () => {
    const runs: Array<{ instance: string; id: string }> = [];
    let enough: () => void = () => {};
    const sixRuns = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const manifestFor = (instance: string) =>
      defineService<{ instance: string }>({
        name: 'manifest-jobs',
        schema: 'gateway',
        port: () => 0,
        migrations,
        context: () => ({ instance }),
        jobs: [
          job({
            name: 'tick',
            every: 150,
            run: async (ctx, info) => {
              runs.push({ instance: ctx.instance, id: info.id });
              if (runs.length >= 6) enough();
            },
          }),
        ],
      });
    const a = await buildService(manifestFor('a'), tc.config, deps, { logger: false });
    const b = await buildService(manifestFor('b'), tc.config, deps, { logger: false });
    try {
      await sixRuns;
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const ids = runs.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const connection = createRedis(tc.config, 'blocking');
    const queue = new Queue('manifest-jobs-tick', { connection, prefix: bullPrefix(tc.config) });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key)).toEqual(['tick']);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('a process without workers (RUN_WORKERS=false) schedules and takes nothing', async () => {
    const runs: string[] = [];
    let done: () => void = () => {};
    const processed = new Promise<void>((resolve) => {
      done = resolve;
    });
    const queueName = 'manifest-api-only';
    const manifestFor = (instance: string) =>
      defineService<{ instance: string }>({
        name: 'manifest-api-only',
        schema: 'gateway',
        port: () => 0,
        migrations,
        context: () => ({ instance }),
        jobs: [
          job({ name: 'tick', every: '1h', run: async () => {} }),
          worker({
            queue: queueName,
            run: async (_data, _job, ctx) => {
              runs.push(ctx.instance);
              done();
            },
          }),
        ],
      });
    const apiOnly = await buildService(manifestFor('api'), { ...tc.config, RUN_WORKERS: false }, deps, {
      logger: false,
    });
    const connection = createRedis(tc.config, 'blocking');
    const queue = new Queue(queueName, { connection, prefix: bullPrefix(tc.config) });
    const schedulers = new Queue('manifest-api-only-tick', { connection, prefix: bullPrefix(tc.config) });
    try {
      await queue.add('work', {});
      expect(await schedulers.getJobSchedulers()).toEqual([]);
      // The job waits for a process that runs workers; the API-only one never takes it.
      const full = await buildService(manifestFor('worker'), tc.config, deps, { logger: false });
      await processed;
      await full.close();
      expect(runs).toEqual(['worker']);
    } finally {
      await apiOnly.close();
      await queue.close();
      await schedulers.close();
      connection.disconnect();
    }
  });

  it('a worker takes what the service enqueues; a catalog queue gets its payload parsed', async () => {
    const batches: string[] = [];
    let done: () => void = () => {};
    const processed = new Promise<void>((resolve) => {
      done = resolve;
    });
    const queueName = 'batch-generation';
    const manifest = defineService<{ enqueue: (id: string) => Promise<unknown> }>({
      name: 'manifest-workers',
      schema: 'gateway',
      port: () => 0,
      migrations,
      context: (_config, _deps, kit) => ({
        enqueue: (id) => kit.queue(queueName).add('generate', { batch_id: id }),
      }),
      jobs: [
        worker({
          queue: queueName,
          concurrency: 2,
          run: async (data) => {
            batches.push(data.batch_id);
            if (batches.length === 2) done();
          },
        }),
      ],
    });
    const built = await buildService(manifest, tc.config, deps, { logger: false });
    try {
      const ids = [randomUUID(), randomUUID()];
      const connection = createRedis(tc.config, 'blocking');
      const queue = new Queue(queueName, { connection, prefix: bullPrefix(tc.config) });
      const bad = await queue.add('generate', { batch_id: 'not-a-uuid' }, { attempts: 3 });
      for (const id of ids) await queue.add('generate', { batch_id: id });
      await processed;
      expect(batches.sort()).toEqual([...ids].sort());
      // The malformed payload failed once, for good (no retries).
      const failed = await queue.getJob(bad.id!);
      expect(await failed?.getState()).toBe('failed');
      expect(failed?.attemptsMade).toBe(1);
      await queue.close();
      connection.disconnect();
    } finally {
      await built.close();
    }
  });
});

describe('shutdown', () => {
  it('stops HTTP first (the request in flight is answered), then messaging, workers, relay, context', async () => {
    const logCtx = await createTestContext({ LOG_LEVEL: 'info' });
    const logDeps = await createServiceDeps(logCtx.config, 'manifest-shutdown');
    const order: string[] = [];
    const stream = {
      write(line: string) {
        const stage = (JSON.parse(line) as { stage?: string }).stage;
        if (stage) order.push(stage);
      },
    };
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const manifest = defineService<object>({
      name: 'manifest-shutdown',
      schema: 'gateway',
      port: () => 0,
      migrations,
      outbox: true,
      context: (_config, _deps, kit) => {
        kit.onClose(() => {
          order.push('context closed');
        });
        return {};
      },
      routes: [
        route(publicTeapot, async () => {
          entered();
          await gate;
          order.push('request answered');
          return { ok: true };
        }),
      ],
      consumers: [
        consumer({ durable: 'shutdown-test', filter: 'events.issuance.>', handle: async () => {} }),
      ],
      jobs: [job({ name: 'idle', every: '1h', run: async () => {} })],
    });
    const app = await buildService(manifest, logCtx.config, logDeps, { logStream: stream });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address() as { port: number };
      // One connection, closed after the answer (a kept-alive idle socket would hold server.close()).
      const response = new Promise<number>((resolve, reject) => {
        get({ host: '127.0.0.1', port: address.port, path: '/t/public', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
      await inHandler;
      const closed = app.close();
      // The server stops accepting first; the request in flight still holds the rest back.
      while (app.server.listening) await new Promise((r) => setImmediate(r));
      expect(order).toEqual([]);
      release();
      expect(await response).toBe(200);
      await closed;
      expect(order).toEqual([
        'request answered',
        'messaging',
        'workers',
        'relay',
        'context',
        'context closed',
      ]);
    } finally {
      await closeServiceDeps(logDeps);
      await logCtx.cleanup();
    }
  });
});

describe('shutdown with a command in flight', () => {
  it('answers it before the context (and then the pool) is closed', async () => {
    const order: string[] = [];
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const manifest = defineService<object>({
      name: 'manifest-inflight',
      schema: 'gateway',
      port: () => 0,
      migrations,
      context: (_config, _deps, kit) => {
        kit.onClose(() => {
          order.push('context closed');
        });
        return {};
      },
      responders: [
        responder('ticketSnapshot', async () => {
          entered();
          await gate;
          order.push('command answered');
          return { ok: false as const, code: 'NOT_FOUND' as const, detail: 'none' };
        }),
      ],
    });
    const inflightDeps = await createServiceDeps(tc.config, 'manifest-inflight');
    try {
      const app = await buildService(manifest, tc.config, inflightDeps, { logger: false });
      await app.ready();
      const client = createCommandClient(inflightDeps.nc, tc.config.NATS_PREFIX, 10_000);
      const reply = client.send('ticketSnapshot', { ticket_code: 'X' });
      await inHandler;
      const closed = app.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(order).toEqual([]);
      release();
      await closed;
      expect(order).toEqual(['command answered', 'context closed']);
      expect(await reply).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    } finally {
      await closeServiceDeps(inflightDeps);
    }
  });
});
