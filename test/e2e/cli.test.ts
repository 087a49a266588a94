// The `cruise` command line run as a process against the four services as processes: what a partner
// and an operator type, with the exit codes and output that scripts rely on, and the progress bar as a
// terminal shows it (a pseudo-terminal from util-linux `script`).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestContext, REPO_ROOT, type TestContext } from '@cruise/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseCapacity, type System, seedCatalogue, startSystem, visitDate } from '../resilience/system.ts';

const CLI = path.join(REPO_ROOT, 'packages/cli/bin/cruise.js');

let ctx: TestContext;
let system: System;
let db: pg.Pool;
let home: string;
let partner: { partner_id: string; api_key: string };
let resellerId: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cruise …` with its own config directory; `env` adds to (or, with undefined, removes from) it. */
function cruise(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    XDG_CONFIG_HOME: home,
    CRUISE_URL: system.gateway,
    CRUISE_API_KEY: partner?.api_key,
    CRUISE_ADMIN_TOKEN: system.secrets.adminToken,
    ...env,
  };
  const child = spawn(process.execPath, [CLI, ...args], {
    env: Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const run = await cruise(args, env);
  if (run.code !== 0) throw new Error(`cruise ${args.join(' ')} → ${run.code}\n${run.stderr}\n${run.stdout}`);
  return run.stdout;
}

const jsonOf = async <T = Record<string, unknown>>(args: string[]) =>
  JSON.parse(await ok([...args, '--json'])) as T;
const lines = (text: string) => text.trim().split('\n').filter(Boolean);

beforeAll(async () => {
  ctx = await createTestContext();
  await seedCatalogue(ctx.config.DATABASE_URL);
  // The 100,000-ticket batch needs more than the seeded capacity of 10,000 units per product.
  await raiseCapacity(ctx.config.DATABASE_URL, 250_000);
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    env: { BATCH_CHUNK_SIZE: '500' },
  });
  db = new pg.Pool({ connectionString: ctx.config.DATABASE_URL, max: 2 });
  home = await mkdtemp(path.join(tmpdir(), 'cruise-cli-'));
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await db?.end();
  await ctx?.cleanup();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('cruise admin', () => {
  it('creates a partner, sets its allocations and registers a device', async () => {
    partner = await jsonOf(['admin', 'partners', 'create', 'CLI Travel', '--rate-limit', '5000']);
    expect(partner.api_key).toMatch(/^ck_/);
    const pool = await jsonOf([
      'admin',
      'allocations',
      'set',
      partner.partner_id,
      '--product',
      '106',
      '--channel',
      'ota',
      '--allocated',
      '50',
    ]);
    expect(pool).toMatchObject({ product_id: 106, channel: 'ota', allocated: 50, available: 50 });
    const table = await ok([
      'admin',
      'allocations',
      'set',
      partner.partner_id,
      '--product',
      '106',
      '--channel',
      'reseller',
      '--allocated',
      '105000',
    ]);
    expect(table).toMatch(/reseller.*105,000/);
    const device = await jsonOf(['admin', 'devices', 'create', '--venue', 'Pier 3', '--name', 'Gate A']);
    expect(device).toMatchObject({ venue: 'Pier 3', name: 'Gate A' });
    expect(device.device_key).toBeTruthy();
    const { rows } = await db.query('SELECT venue, name FROM redemption.devices WHERE device_id = $1', [
      device.device_id,
    ]);
    expect(rows).toEqual([{ venue: 'Pier 3', name: 'Gate A' }]);
    const reseller = await jsonOf<{ reseller_id: string }>(['resellers', 'create', 'Shanghai Seller']);
    resellerId = reseller.reseller_id;
  });
});

describe('cruise as a partner', () => {
  it('shows inventory as JSON and as a table', async () => {
    const inv = await jsonOf<{ products: { product_id: number; channels: Record<string, unknown> }[] }>([
      'inventory',
      '--date',
      visitDate(2),
    ]);
    expect(inv.products.find((p) => p.product_id === 106)?.channels.ota).toEqual({
      allocated: 50,
      held: 0,
      sold: 0,
      available: 50,
    });
    const table = await ok(['inventory', '--date', visitDate(2)]);
    expect(table).toContain(`Inventory for ${visitDate(2)}`);
    const row = lines(table).find((l) => /\b106\b.*\bota\b/.test(l))!;
    expect(row.split('│').map((c) => c.trim())).toEqual(
      expect.arrayContaining(['106', 'Premium Cruise Package', 'ota', '50', '0', '0', '50']),
    );
  });

  it('reserves twice with one idempotency key and holds once', async () => {
    const args = ['reserve', '--product', '106', '--date', visitDate(2), 'adult=2', 'child=1'];
    const first = await jsonOf<{ reservation_id: string; status: string; quantity: number }>([
      ...args,
      '--idempotency-key',
      'cli-order-1',
    ]);
    const second = await jsonOf<{ reservation_id: string }>([...args, '--idempotency-key', 'cli-order-1']);
    expect(first).toMatchObject({ status: 'ON_HOLD', quantity: 3 });
    expect(second.reservation_id).toBe(first.reservation_id);
    const inv = await jsonOf<{ products: { product_id: number; channels: { ota: { held: number } } }[] }>([
      'inventory',
    ]);
    expect(inv.products.find((p) => p.product_id === 106)!.channels.ota.held).toBe(3);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM inventory.reservations WHERE partner_id = $1`,
      [partner.partner_id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('creates a 5,000-ticket batch with --wait, reporting progress as JSON lines, and exports exactly its codes', async () => {
    const run = await ok([
      'batches',
      'create',
      '--product',
      '106',
      '--quantity',
      '5000',
      '--reseller',
      resellerId,
      '--reference',
      'CLI-5K',
      '--wait',
      '--interval',
      '100',
      '--json',
    ]);
    const events = lines(run).map((l) => JSON.parse(l));
    const progress = events.filter((e) => e.event === 'progress');
    const done = events.at(-1);
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(p).toMatchObject({ what: 'batch', total: 5000 });
    const counts = progress.map((p) => p.done);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(progress.at(-1).done).toBe(5000);
    expect(done).toMatchObject({
      event: 'done',
      batch: { status: 'COMPLETED', generated: 5000, quantity: 5000 },
    });
    const batchId: string = done.batch.batch_id;
    const waited = lines(await ok(['batches', 'wait', batchId, '--json'])).map((l) => JSON.parse(l));
    expect(waited.at(-1)).toMatchObject({ event: 'done', batch: { batch_id: batchId, status: 'COMPLETED' } });

    const file = path.join(home, 'nested', '..', 'tickets.csv');
    const exported = lines(await ok(['batches', 'export', batchId, '-o', file]));
    expect(JSON.parse(exported.at(-1)!)).toMatchObject({ event: 'done', rows: 5000 });
    const csv = lines(await readFile(path.join(home, 'tickets.csv'), 'utf8'));
    const column = csv[0]!.split(',').indexOf('ticket_code');
    const codes = csv.slice(1).map((l) => l.split(',')[column]);
    const { rows } = await db.query<{ ticket_code: string }>(
      'SELECT ticket_code FROM issuance.tickets WHERE batch_id = $1',
      [batchId],
    );
    expect(codes.sort()).toEqual(rows.map((r) => r.ticket_code).sort());
    expect(new Set(codes).size).toBe(5000);

    // The same codes through the ticket list, every page, as CSV.
    const listed = lines(
      await ok(['tickets', 'list', '--batch', batchId, '--all', '--page-size', '500', '--format', 'csv']),
    );
    expect(listed[0]).toBe('ticket_code,status,product_id,channel,customer_type,batch_id,created_at');
    expect(
      listed
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(codes);
    const table = await ok(['tickets', 'list', '--batch', batchId, '--page-size', '3']);
    expect(table).toMatch(/3 of 5,000 tickets/);
    // The footer names the cursor of the next page; following it continues the batch in order.
    const cursor = /--cursor (\S+) or --all/.exec(table)?.[1];
    expect(cursor).toBeDefined();
    const next = JSON.parse(
      await ok(['tickets', 'list', '--batch', batchId, '--page-size', '3', '--cursor', cursor!, '--json']),
    );
    expect(next).toMatchObject({ page: 2, page_size: 3, has_more: true });
    const firstSix = JSON.parse(
      await ok(['tickets', 'list', '--batch', batchId, '--page-size', '6', '--json']),
    );
    expect(next.data.map((t: { ticket_code: string }) => t.ticket_code)).toEqual(
      firstSix.data.slice(3).map((t: { ticket_code: string }) => t.ticket_code),
    );
  });

  it('draws a progress bar on a terminal and finishes it on a 100,000-ticket batch', async () => {
    const command = [
      'stty cols 120 rows 30;',
      JSON.stringify(process.execPath),
      JSON.stringify(CLI),
      'batches create --product 106 --quantity 100000 --reference CLI-100K --wait --interval 250',
      `--reseller ${resellerId}`,
    ].join(' ');
    // util-linux `script` gives the CLI a pseudo-terminal and copies what it draws to stdout.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: {
        ...process.env,
        XDG_CONFIG_HOME: home,
        CRUISE_URL: system.gateway,
        CRUISE_API_KEY: partner.api_key,
        TERM: 'xterm-256color',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    child.stderr.on('data', (d) => (screen += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, screen.slice(-2000)).toBe(0);
    // Each redraw starts with a carriage return or cursor move: split into the frames the terminal showed.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are the point
    const frames = screen.split(/\r|\x1b\[\d*G/).filter((f) => f.includes('|'));
    const percents = frames.map((f) => Number(/(\d+)% /.exec(f)?.[1] ?? Number.NaN)).filter(Number.isFinite);
    expect(percents.length).toBeGreaterThan(1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    const last = frames.filter((f) => f.includes('100% '))[0]!;
    expect(last).toMatch(/█{10,}/);
    expect(last).toMatch(/100,000\/100,000 tickets · [\d,]+\/s · ETA 0s/);
    expect(frames.some((f) => /ETA \d+(s|m\d\ds)/.test(f) && !f.includes('100% '))).toBe(true);
    expect(screen).toMatch(/COMPLETED: 100,000 tickets/);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM issuance.tickets t JOIN issuance.batches b USING (batch_id)
        WHERE b.batch_reference = 'CLI-100K'`,
    );
    expect(rows[0].n).toBe(100_000);
  }, 600_000);
});

describe('cruise when things go wrong', () => {
  it('a bad key: exit 1 and one readable line on stderr', async () => {
    const run = await cruise(['inventory'], { CRUISE_API_KEY: 'ck_live_not-a-real-key' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^cruise: UNAUTHORIZED \(401\) · .+ · request [0-9a-f-]+\n$/);
  });

  it('a refusal by the API names its code: exit 1', async () => {
    const run = await cruise(['reserve', '--product', '106', '--date', visitDate(2), 'adult=100']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^cruise: INSUFFICIENT_INVENTORY \(409\)/);
  });

  it('usage mistakes: exit 2 before any request', async () => {
    for (const args of [
      ['reserve', '--product', '106', 'adult=1'],
      ['reserve', '--product', 'many', '--date', visitDate(2), 'adult=1'],
      ['reserve', '--product', '106', '--date', visitDate(2), 'adult'],
      ['batches', 'create', '--product', '106', '--quantity', '100001'],
      ['tickets', 'list', '--format', 'xml'],
      ['no-such-command'],
    ]) {
      const run = await cruise(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toBeTruthy();
    }
    const noKey = await cruise(['inventory'], { CRUISE_API_KEY: undefined });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/CRUISE_API_KEY/);
  });

  it('--help on every command shows an example', async () => {
    for (const args of [
      [],
      ['inventory'],
      ['reserve'],
      ['batches'],
      ['batches', 'create'],
      ['batches', 'wait'],
      ['batches', 'export'],
      ['tickets', 'list'],
      ['admin', 'partners', 'create'],
      ['admin', 'allocations', 'set'],
      ['admin', 'devices', 'create'],
      ['profile', 'set'],
    ]) {
      const run = await cruise([...args, '--help']);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/Examples?:\n {2}\$ cruise /);
    }
  });
});

describe('cruise profiles', () => {
  it('saves keys readable by the user only, and the environment wins over the profile', async () => {
    const env = { CRUISE_URL: undefined, CRUISE_API_KEY: undefined, CRUISE_ADMIN_TOKEN: undefined };
    await ok(['profile', 'set', 'work', '--url', system.gateway, '--api-key', partner.api_key], env);
    const creds = path.join(home, 'cruise', 'credentials.json');
    expect((await stat(creds)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(home, 'cruise'))).mode & 0o077).toBe(0);
    expect(await readFile(path.join(home, 'cruise', 'config.json'), 'utf8')).not.toContain(partner.api_key);

    // The saved profile is enough on its own.
    const inv = JSON.parse(await ok(['inventory', '--json'], env));
    expect(inv.products).toHaveLength(3);
    const shown = JSON.parse(await ok(['profile', 'show', '--json'], env));
    expect(shown).toMatchObject({ profile: 'work', url: system.gateway, api_key_from: 'profile work' });
    expect(JSON.stringify(shown)).not.toContain(partner.api_key);

    // CRUISE_API_KEY wins: a bad one is refused although the profile's key is good.
    const overridden = await cruise(['inventory'], { ...env, CRUISE_API_KEY: 'ck_live_env-wins' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/UNAUTHORIZED/);

    await ok(['profile', 'set', 'other', '--url', 'http://127.0.0.1:9'], env);
    await ok(['profile', 'use', 'other'], env);
    const unreachable = await cruise(['inventory'], { ...env, CRUISE_API_KEY: partner.api_key });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^cruise: cannot reach the gateway/);
    expect((await cruise(['profile', 'use', 'missing'], env)).code).toBe(2);
  });
});
