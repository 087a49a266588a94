// What the gateway tests share: a gateway built on the real infrastructure of a test context, and a
// tiny fastify "upstream" standing in for the other services, with routes of every auth kind.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type App,
  type Config,
  closeServiceDeps,
  createServiceApp,
  createServiceDeps,
  defineRoute,
  gatewayRoutes,
  type RouteDef,
  type ServiceDeps,
} from '@cruise/shared';
import { z } from 'zod';
import { buildApp } from '../src/index.ts';

export const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

const route = (r: Omit<RouteDef, 'tags' | 'errors' | 'response'> & Partial<RouteDef>): RouteDef =>
  defineRoute({ tags: ['Test'], errors: [], response: { 200: z.object({}).passthrough() }, ...r });

/** A catalogue of one route per auth kind, owned by the stand-in upstream. */
export const testRoutes: RouteDef[] = [
  route({
    method: 'POST',
    path: '/api/ota/echo',
    operationId: 'echo',
    summary: 'echo',
    auth: 'partner',
    service: 'inventory',
  }),
  route({
    method: 'GET',
    path: '/api/ota/echo/:thing',
    operationId: 'echoGet',
    summary: 'echo',
    auth: 'partner',
    service: 'issuance',
  }),
  route({
    method: 'GET',
    path: '/api/ota/export.csv',
    operationId: 'csv',
    summary: 'csv',
    auth: 'partner',
    service: 'issuance',
  }),
  route({
    method: 'GET',
    path: '/api/ota/silent',
    operationId: 'silent',
    summary: 'hangs',
    auth: 'partner',
    service: 'inventory',
  }),
  route({
    method: 'GET',
    path: '/api/ota/stall',
    operationId: 'stall',
    summary: 'stalls mid-body',
    auth: 'partner',
    service: 'inventory',
  }),
  route({
    method: 'DELETE',
    path: '/api/ota/things/:id',
    operationId: 'del',
    summary: 'delete',
    auth: 'partner',
    service: 'inventory',
  }),
  route({
    method: 'POST',
    path: '/payments/notify',
    operationId: 'notify',
    summary: 'webhook',
    auth: 'webhook',
    service: 'issuance',
  }),
  route({
    method: 'POST',
    path: '/venue/redeem',
    operationId: 'redeem',
    summary: 'scan',
    auth: 'device',
    service: 'redemption',
  }),
  route({
    method: 'GET',
    path: '/qr/:ticket_code/info',
    operationId: 'info',
    summary: 'info',
    auth: 'public',
    service: 'redemption',
  }),
  route({
    method: 'POST',
    path: '/qr/:ticket_code',
    operationId: 'qr',
    summary: 'qr',
    auth: 'partner-or-admin',
    service: 'redemption',
  }),
  route({
    method: 'PUT',
    path: '/api/admin/partners/:partner_id/allocations',
    operationId: 'alloc',
    summary: 'allocations',
    auth: 'admin',
    service: 'inventory',
  }),
];

export const CSV_ROWS = 50_000;

/** The stand-in for inventory/issuance/redemption: reports what it received, as a real service would see it. */
export async function startUpstream(
  config: Config,
): Promise<{ app: App; url: string; hits: () => number; abandoned: () => number }> {
  const app = createServiceApp({ service: 'upstream', config, logger: false });
  let hits = 0;
  app.addHook('onRequest', async () => {
    hits++;
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
  const report = async (request: import('fastify').FastifyRequest) => {
    const raw = request.body as Buffer | undefined;
    return {
      method: request.method,
      url: request.url,
      caller: request.caller,
      headers: request.headers,
      body_sha256: raw ? createHash('sha256').update(raw).digest('hex') : null,
      body_length: raw?.length ?? 0,
    };
  };
  app.post('/api/ota/echo', report);
  app.get('/api/ota/echo/:thing', async (request, reply) => {
    reply.header('x-upstream', 'yes').header('cache-control', 'no-store');
    if ((request.params as { thing: string }).thing === 'teapot') {
      return reply.code(418).type('application/problem+json').send({ code: 'TEAPOT' });
    }
    return report(request);
  });
  app.delete('/api/ota/things/:id', async (_request, reply) => reply.code(204).send());
  app.get('/api/ota/export.csv', async (_request, reply) => {
    let i = 0;
    const stream = new Readable({
      read() {
        if (i >= CSV_ROWS) return this.push(null);
        const chunk: string[] = [];
        for (let n = 0; n < 1000 && i < CSV_ROWS; n++, i++) chunk.push(`CODE${String(i).padStart(8, '0')}\n`);
        this.push(chunk.join(''));
      },
    });
    return reply.type('text/csv').header('content-disposition', 'attachment; filename="t.csv"').send(stream);
  });
  // Sends its headers and a first part of the body, then nothing more.
  app.get('/api/ota/stall', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    reply.raw.write('{"partial":');
  });
  let silentAbandoned = 0;
  // Never answers; counts callers that hung up on it.
  app.get('/api/ota/silent', (_request, reply) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) silentAbandoned++;
    });
    return new Promise(() => {});
  });
  app.post('/payments/notify', report);
  app.post('/venue/redeem', report);
  app.get('/qr/:ticket_code/info', report);
  app.post('/qr/:ticket_code', report);
  app.put('/api/admin/partners/:partner_id/allocations', report);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, hits: () => hits, abandoned: () => silentAbandoned };
}

export interface Gateway {
  app: App;
  deps: ServiceDeps;
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  routes: RouteDef[] = [...gatewayRoutes, ...testRoutes],
): Promise<Gateway> {
  const deps = await createServiceDeps(config, 'gateway');
  const app = await buildApp(config, deps, { logger: false, routes });
  await app.ready();
  return {
    app,
    deps,
    async close() {
      await app.close();
      await closeServiceDeps(deps);
    },
  };
}

export async function createPartner(
  app: App,
  body: Record<string, unknown> = { name: 'Test OTA' },
): Promise<{
  partner_id: string;
  api_key: string;
  rate_limit_per_minute: number;
  status: string;
  name: string;
}> {
  const res = await app.inject({ method: 'POST', url: '/api/admin/partners', headers: ADMIN, payload: body });
  if (res.statusCode !== 201) throw new Error(`create partner: ${res.statusCode} ${res.body}`);
  return res.json();
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Polls until `check` passes or `timeoutMs` elapses; returns how long it took. */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP proxy in front of Redis that a test can cut (every connection dropped) and restore. */
export async function redisProxy(
  redisUrl: string,
): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void> }> {
  const net = await import('node:net');
  const { freePort } = await import('@cruise/testkit');
  const target = new URL(redisUrl);
  const port = await freePort();
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  const restore = () => new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  await restore();
  return {
    url: `redis://127.0.0.1:${port}`,
    async cut() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore,
  };
}
