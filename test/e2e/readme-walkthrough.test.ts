// The README's "first session as a partner" runs as written: the whole system is started the way a user
// starts it (scripts/start.ts: all six services, on private ports), the bash block between the walkthrough markers is taken
// from README.md and run with bash, and it must finish with the scan ACCEPTED. A README that drifts from
// the API fails here.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SERVICE_NODE_FLAGS } from '@cruise/shared';
import { createTestContext, freePort, REPO_ROOT, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
let ctx: TestContext;
let stack: ChildProcess | undefined;
let output = '';
let workDir: string;

/** The bash block between `<!-- walkthrough:begin -->` and `<!-- walkthrough:end -->`. */
function walkthroughOf(readme: string): string {
  const match = /<!-- walkthrough:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no bash block between the walkthrough markers');
  return match[1];
}

beforeAll(async () => {
  ctx = await createTestContext();
  workDir = await mkdtemp(path.join(tmpdir(), 'cruise-walkthrough-'));
  const [gateway, inventory, issuance, redemption, notifications, octo] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const tsx = createRequire(import.meta.url).resolve('tsx');
  stack = spawn(
    process.execPath,
    [...SERVICE_NODE_FLAGS, '--import', tsx, path.join(REPO_ROOT, 'scripts/start.ts')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...ctx.env,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(gateway),
        INVENTORY_PORT: String(inventory),
        ISSUANCE_PORT: String(issuance),
        REDEMPTION_PORT: String(redemption),
        NOTIFICATIONS_PORT: String(notifications),
        OCTO_PORT: String(octo),
        // Where start.ts writes the token, the webhook secret and the gateway URL the README reads.
        CRUISE_STATE_DIR: path.join(workDir, '.cruise'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  stack.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  stack.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 150_000;
  while (!output.includes('Cruise ticketing is running')) {
    if (stack.exitCode !== null) throw new Error(`pnpm start exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the system did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = new Promise((r) => stack?.once('exit', r));
    stack.kill('SIGTERM');
    await exited;
  }
  await rm(workDir, { recursive: true, force: true });
  await ctx?.cleanup();
}, 60_000);

it('the banner names every URL, the apps, the admin token source and the demo key', () => {
  const banner = output.slice(output.indexOf('Cruise ticketing is running'));
  for (const part of [
    '/docs',
    '/openapi.json',
    '/scanner/',
    '/console/',
    '/octo/',
    'notifications :',
    'octo :',
    'operator token: ADMIN=',
    '.cruise/admin-token',
    'demo key',
  ]) {
    expect(banner).toContain(part);
  }
});

it("runs the README's partner session, from a new partner to a redeemed entitlement", async () => {
  const script = walkthroughOf(await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: workDir,
    env: { ...process.env, GW: '' },
    timeout: 120_000,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(
      `the walkthrough failed: ${err.message}\n${err.stdout}\n${err.stderr}\n--- system:\n${output.slice(-5000)}`,
    );
  });
  expect(stdout).toMatch(/^payment: CONFIRMED$/m);
  expect(stdout).toMatch(/^2 tickets; \S+ is ACTIVE$/m);
  expect(stdout).toMatch(/^scan: ACCEPTED, remaining: /m);
  // The last line is the ticket info anyone with the code reads: FERRY redeemed, the rest remaining.
  const info = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(
    info.entitlements.find((e: { function_code: string }) => e.function_code === 'FERRY').redeemed_at,
  ).not.toBeNull();
  expect(info.remaining).not.toContain('FERRY');
}, 150_000);
