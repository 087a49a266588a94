// `pnpm start` as a developer runs it, with no secret configured (finding: it ran with the public
// default INTERNAL_TOKEN, so anyone reaching 8081-8083 with `x-internal-token: dev-internal-token` acted
// as the operator or any partner). Now it generates a secret per run and shares it with the services
// it starts: forwarded calls work, forged ones are refused on every port, and it prints the admin token.
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signInternalRequest } from '@cruise/shared';
import { createTestContext, freePort, listensOn, REPO_ROOT, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, expectStatus } from '../resilience/system.ts';

let ctx: TestContext;
let start: ChildProcess;
let output = '';
const ports = { gateway: 0, inventory: 0, issuance: 0, redemption: 0, notifications: 0, octo: 0 };
const url = (p: number) => `http://127.0.0.1:${p}`;
const stateDir = () => path.join(tmpdir(), `cruise-start-${ctx.id}`);

beforeAll(async () => {
  ctx = await createTestContext();
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: ctx.env.DATABASE_URL,
    REDIS_URL: ctx.env.REDIS_URL,
    REDIS_PREFIX: ctx.id,
    NATS_URL: ctx.env.NATS_URL,
    NATS_PREFIX: ctx.id,
    GATEWAY_PORT: String(ports.gateway),
    INVENTORY_PORT: String(ports.inventory),
    ISSUANCE_PORT: String(ports.issuance),
    REDEMPTION_PORT: String(ports.redemption),
    NOTIFICATIONS_PORT: String(ports.notifications),
    OCTO_PORT: String(ports.octo),
    // The token, secret and demo key files go to a directory of this run, not the checkout's .cruise/.
    CRUISE_STATE_DIR: stateDir(),
  };
  // Nothing configured, as on a fresh clone.
  for (const name of ['INTERNAL_TOKEN', 'ADMIN_TOKEN', 'METRICS_TOKEN', 'QR_SIGNING_KEY']) delete env[name];
  const tsx = createRequire(import.meta.url).resolve('tsx');
  start = spawn(process.execPath, ['--import', tsx, path.join(REPO_ROOT, 'scripts', 'start.ts')], {
    env,
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    output += d.toString();
  };
  start.stdout?.on('data', keep);
  start.stderr?.on('data', keep);
  const deadline = Date.now() + 240_000;
  while (!output.includes('[start] ready')) {
    if (start.exitCode !== null) throw new Error(`pnpm start exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`pnpm start not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // `pnpm start` prints its banner after a minute even if a service is still starting: wait for each,
  // answering from a process `pnpm start` started (not another test's that took the free port first).
  for (const port of Object.values(ports)) {
    while (
      (await fetch(`${url(port)}/readyz`).then(
        (r) => r.status,
        () => 0,
      )) !== 200 ||
      !(await listensOn(start.pid!, port))
    ) {
      if (Date.now() > deadline) throw new Error(`:${port} not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 300_000);

afterAll(async () => {
  if (start && start.exitCode === null) {
    const exited = new Promise((r) => start.once('exit', r));
    start.kill('SIGTERM');
    await exited;
  }
  if (ctx) await rm(stateDir(), { recursive: true, force: true });
  await ctx?.cleanup();
}, 60_000);

it('prints the operator token it uses, and the forwarded calls work with the secret it generated', async () => {
  expect(output).toContain('INTERNAL_TOKEN not configured: generated a random one for this run');
  const admin = /operator token: ADMIN=(\S+)/.exec(output)?.[1];
  expect(admin).toBe('dev-admin-token');
  const created = expectStatus(
    await call('POST', `${url(ports.gateway)}/api/admin/devices`, {
      token: admin,
      body: { venue: 'Start pier', name: 'Gate S' },
    }),
    201,
    'device through the gateway',
  );
  expect(created.device_key).toBeTruthy();
});

it('refuses the old default token, a guessed one and none on every service port', async () => {
  const forged = {
    'the old default token': { 'x-internal-token': 'dev-internal-token', 'x-caller-kind': 'admin' },
    'a signature keyed by the old default token': signInternalRequest('dev-internal-token', {
      method: 'POST',
      url: '/api/admin/devices',
      requestId: 'forged',
      caller: { kind: 'admin' },
    }),
    'a guessed token': { 'x-internal-token': 'dev-internal-token-change-me', 'x-caller-kind': 'admin' },
    'no token': { 'x-caller-kind': 'admin' },
  };
  for (const port of [ports.redemption, ports.inventory, ports.issuance]) {
    for (const [how, headers] of Object.entries(forged)) {
      const device = await call('POST', `${url(port)}/api/admin/devices`, {
        headers,
        body: { venue: 'Evil pier', name: 'Evil gate' },
      });
      expect(device.status, `:${port} with ${how}`).toBe(401);
      const reservations = await call('GET', `${url(port)}/api/ota/reservations`, {
        headers: { ...headers, 'x-caller-kind': 'partner', 'x-partner-id': crypto.randomUUID() },
      });
      expect(reservations.status, `:${port} with ${how}`).toBe(401);
    }
  }
});
