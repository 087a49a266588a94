// The browser apps' static files: the page is revalidated on every load, hashed assets are cached for a
// year, a missing build is a clear 503 (the gateway still starts), and no path escapes the build folder.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, closeServiceDeps, createServiceDeps, type ServiceDeps } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { ADMIN_TOKEN } from './harness.ts';

let ctx: TestContext;
let deps: ServiceDeps;
let app: App;
let appsDir: string;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN });
  // A scanner build and no console build.
  appsDir = await mkdtemp(path.join(tmpdir(), 'cruise-apps-'));
  const dist = path.join(appsDir, 'scanner', 'dist');
  await mkdir(path.join(dist, 'assets'), { recursive: true });
  await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>scanner</title>');
  await writeFile(path.join(dist, 'assets', 'index-AbC123.js'), 'console.log(1)');
  await writeFile(path.join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {})');
  await writeFile(path.join(appsDir, 'secret.txt'), 'outside the build');
  deps = await createServiceDeps(ctx.config, 'gateway');
  app = await buildApp(ctx.config, deps, { logger: false, appsDir });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  if (deps) await closeServiceDeps(deps);
  await ctx?.cleanup();
  if (appsDir) await rm(appsDir, { recursive: true, force: true });
});

describe('browser apps served by the gateway', () => {
  it('serves the page with no-cache and hashed assets as immutable for a year', async () => {
    const page = await app.inject({ method: 'GET', url: '/scanner/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await app.inject({ method: 'GET', url: '/scanner/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const sw = await app.inject({ method: 'GET', url: '/scanner/sw.js' });
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect(sw.headers['service-worker-allowed']).toBe('/scanner/');
  });

  it('redirects the bare path to the app folder', async () => {
    const res = await app.inject({ method: 'GET', url: '/scanner' });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('/scanner/');
  });

  it('answers a missing build with 503 and what to run', async () => {
    for (const url of ['/console/', '/console', '/console/assets/x.js']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('pnpm build');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    // The API beside it is unaffected.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('serves nothing outside the build folder', async () => {
    for (const url of ['/scanner/../secret.txt', '/scanner/%2e%2e/secret.txt', '/scanner/..%2fsecret.txt']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.body).not.toContain('outside the build');
      expect([400, 403, 404]).toContain(res.statusCode);
    }
  });
});
