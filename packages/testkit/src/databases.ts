// A migrated template database per test run, cloned into a fresh database per test file (cheap: a
// file copy inside PostgreSQL), so files run in parallel without seeing each other's rows.
import { randomBytes } from 'node:crypto';
import { type MigrationSet, runMigrations } from '@cruise/shared';
import pg from 'pg';

export function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates and migrates this run's template database; returns its name. */
export async function prepareTemplate(serverUrl: string, sets: MigrationSet[]): Promise<string> {
  const name = `cruise_tmpl_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin(serverUrl, async (c) => {
    await c.query(`CREATE DATABASE "${name}"`);
  });
  const pool = new pg.Pool({ connectionString: databaseUrl(serverUrl, name), max: 1 });
  try {
    for (const set of sets) await runMigrations(pool, set);
  } finally {
    await pool.end();
  }
  return name;
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await admin(serverUrl, async (c) => {
    // A pool that has just ended has sent its Terminate, but its backends may not be gone yet. Forcing the
    // drop then makes such a backend send FATAL 57P01 to a client that is still closing, and that client's
    // 'error' surfaces as an uncaught exception in the test process (seen in invariants.test.ts). So the
    // connections get up to 2 s to leave on their own; only those still open after that are terminated.
    for (let waited = 0; waited < 2_000; waited += 50) {
      const { rows } = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      if (rows[0]!.n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** Clones the template into a new database. Concurrent clones of one template can collide: retry. */
export async function cloneTemplate(serverUrl: string, template: string, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}
