// The test kit's process start: a port taken by another process between `freePort` and the
// service's bind must not pass for the service being ready (it once did: a fault test's gateway
// forwarded to another test file's inventory, which refused its signature with 401).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from './context.ts';
import { freePort, listensOn, startService } from './processes.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('startService', () => {
  it('is not fooled by another process answering /readyz on its port', async () => {
    const port = await freePort();
    // The impostor: another "service" that took the port first and says it is ready.
    const impostor = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
    try {
      expect(await listensOn(process.pid, port)).toBe(true);
      // Our service cannot bind: the start must fail, not report the impostor as ready.
      await expect(startService('redemption', ctx.env, { port, readyTimeoutMs: 30_000 })).rejects.toThrow(
        /redemption exited|EADDRINUSE/,
      );
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it('knows which process listens on a port', async () => {
    const port = await freePort();
    expect(await listensOn(process.pid, port)).toBe(false);
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await listensOn(process.pid, port)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('freePort', () => {
  it('never hands out a port twice, across 200 concurrent calls', async () => {
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(ports).size).toBe(200);
  });
});
