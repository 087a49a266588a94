// A service stopped while BullMQ's queues and workers are still saying hello to Redis. Each BullMQ
// connection starts with an INFO (the server's version) that nothing awaits; closing the connection
// under it made BullMQ reject promises it never handles: 8 "Connection is closed" unhandled rejections
// in `smoke.test.ts` when the suite ran on a loaded machine (a slow Redis). A private redis-server
// (DEBUG SLEEP stalls it, and only it) makes the slow answer happen every time.
import { createTestContext, type PrivateRedis, startRedisServer, type TestContext } from '@cruise/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeServiceDeps, createServiceDeps, type ServiceDeps } from '../service.ts';
import { buildService } from './build.ts';
import { defineService, job, worker } from './define.ts';

let server: PrivateRedis;
let url: string;
let tc: TestContext;
let deps: ServiceDeps;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  // DEBUG is off by default and cannot be turned on at runtime: this server starts with it.
  server = await startRedisServer({ args: ['--enable-debug-command', 'yes'] });
  url = server.url;
  tc = await createTestContext({ REDIS_URL: url });
  deps = await createServiceDeps(tc.config, 'handshake-test');
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  if (deps) await closeServiceDeps(deps);
  await tc?.cleanup();
  await server?.stop();
});

const manifest = defineService({
  name: 'handshake',
  schema: 'gateway',
  port: () => 0,
  migrations: { schema: 'gateway', folder: '/nonexistent' },
  context: () => ({}),
  jobs: [
    job({ name: 'tick', every: '1h', run: async () => {} }),
    worker({ queue: 'handshake-work', run: async () => {} }),
  ],
});

it('closes cleanly while every queue and worker still waits for its first answer from Redis', async () => {
  const staller = new Redis(url);
  try {
    for (let round = 0; round < 5; round++) {
      // Redis stalls first; the service is built and closed while its handshakes wait behind the stall.
      const stall = staller.call('DEBUG', 'SLEEP', '0.3');
      await new Promise((r) => setTimeout(r, 5));
      const app = await buildService(manifest, tc.config, deps, { logger: false });
      await new Promise((r) => setTimeout(r, round * 20));
      await app.close();
      await stall;
    }
    // Rejections surface on the next turns of the event loop.
    await new Promise((r) => setTimeout(r, 200));
    expect(unhandled.map(String)).toEqual([]);
  } finally {
    staller.disconnect();
  }
});
