// What docker-compose.yml, the Dockerfile and .env.example promise, checked without Docker: every
// secret required, every long-running container health-checked and started only once what it needs is
// healthy, NATS on its per-service users and Redis with a password, an image with production
// dependencies that runs the services with plain `node` as a non-root user, and an .env.example that
// names every variable the code and compose read. The production start path itself (plain node, Node's
// type stripping, no tsx) is proven by starting a service that way; and a weak secret stops it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { configSchema, SECRET_VARIABLES } from '@cruise/shared';
import { createTestContext, freePort, listensOn, REPO_ROOT, type TestContext } from '@cruise/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const APP_SERVICES = ['gateway', 'inventory', 'issuance', 'redemption', 'octo'];
/** One-shot jobs exit when done: the others wait for them to complete, they have no health check. */
const JOBS = ['seed'];

/** Variable names compose interpolates: `${NAME}`, `${NAME:-default}`, `${NAME:?message}`. */
function composeVariables(text: string): Set<string> {
  const code = text.replace(/^\s*#.*$/gm, '');
  return new Set([...code.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
}

/** `process.env.NAME` reads in the shipped code (services, packages, scripts; tests excluded). */
function codeEnvReads(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (entry === 'node_modules' || entry === 'test') continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts') && !full.endsWith('.test.ts')) {
        for (const m of readFileSync(full, 'utf8').matchAll(
          /process\.env(?:\.([A-Z0-9_]+)|\[['"]([A-Z0-9_]+)['"]\])/g,
        )) {
          names.add((m[1] ?? m[2])!);
        }
      }
    }
  };
  for (const root of ['packages', 'services', 'scripts']) walk(path.join(REPO_ROOT, root));
  // Set by pnpm itself (the directory `pnpm cruise` was called from), not configuration.
  names.delete('INIT_CWD');
  return names;
}

describe('docker-compose.yml', () => {
  it('requires every secret (no default a deployment could run with)', () => {
    const text = read('docker-compose.yml');
    for (const name of [...SECRET_VARIABLES, 'POSTGRES_PASSWORD', 'REDIS_PASSWORD']) {
      expect(text, name).toMatch(new RegExp(`\\$\\{${name}:\\?`));
      expect(text, name).not.toMatch(new RegExp(`\\$\\{${name}:-`));
    }
    for (const name of APP_SERVICES) {
      const env = services[name]!.environment!;
      for (const secret of SECRET_VARIABLES)
        expect(env[secret], `${name} ${secret}`).toMatch(/^\$\{[A-Z_]+:\?/);
    }
    expect(text).not.toMatch(/change-me|dev-[a-z-]*token/);
  });

  it('health-checks every long-running container and starts each only when its dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (JOBS.includes(name)) continue;
      expect(service.healthcheck?.test, `${name} health check`).toBeDefined();
    }
    for (const name of APP_SERVICES) {
      expect(services[name]!.healthcheck!.test.join(' '), name).toMatch(/\/readyz/);
      const deps = services[name]!.depends_on!;
      for (const infra of ['postgres', 'redis', 'nats']) {
        expect(deps[infra]?.condition, `${name} → ${infra}`).toBe('service_healthy');
      }
      expect(deps.seed?.condition).toBe('service_completed_successfully');
    }
    for (const upstream of ['inventory', 'issuance', 'redemption', 'octo']) {
      expect(services.gateway!.depends_on![upstream]?.condition).toBe('service_healthy');
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(condition, `${name} → ${dep}`).toBe(
          JOBS.includes(dep) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
    expect(services.nats!.healthcheck!.test.join(' ')).toMatch(/8222\/healthz/);
  });

  it('runs NATS with the per-service users of deploy/nats.conf and Redis with a password', () => {
    expect(services.nats!.command).toEqual(['-c', '/etc/nats/nats.conf']);
    expect(services.nats!.volumes).toContain('./deploy/nats.conf:/etc/nats/nats.conf:ro');
    expect(services.redis!.command!.join(' ')).toMatch(/--requirepass/);
    for (const name of APP_SERVICES) {
      const env = services[name]!.environment!;
      expect(env.NATS_URL, name).toMatch(
        new RegExp(`^nats://${name}:\\$\\{NATS_${name.toUpperCase()}_PASSWORD:\\?`),
      );
      expect(env.REDIS_URL, name).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?/);
    }
  });

  it('runs the services with plain node (type stripping), never tsx; only the gateway publishes a port', () => {
    for (const name of [...APP_SERVICES, ...JOBS]) {
      const command = services[name]!.command!;
      expect(command[0], name).toBe('node');
      expect(command.join(' '), name).not.toMatch(/tsx/);
      expect(command.at(-1), name).toMatch(/\.ts$/);
    }
    const published = Object.entries(services).filter(([, s]) => s.ports?.length);
    expect(published.map(([n]) => n)).toEqual(['gateway']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('installs production dependencies only and runs as a non-root user without tsx', () => {
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile --prod/);
    const lines = dockerfile.split('\n');
    const user = lines.findLast((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    // USER comes after the last COPY/RUN of the final stage, before CMD.
    expect(lines.lastIndexOf(user!)).toBeGreaterThan(lines.findLastIndex((l) => /^(COPY|RUN) /.test(l)));
    expect(dockerfile).toMatch(/NODE_ENV=production/);
    const instructions = lines.filter((l) => !l.startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/tsx/);
  });

  it('copies every workspace package manifest before the frozen install', () => {
    for (const group of ['packages', 'services']) {
      for (const name of readdirSync(path.join(REPO_ROOT, group))) {
        const manifest = `${group}/${name}/package.json`;
        if (!statSync(path.join(REPO_ROOT, group, name)).isDirectory()) continue;
        expect(dockerfile, manifest).toContain(`COPY ${manifest} ${group}/${name}/`);
      }
    }
  });

  it('ships, among production dependencies, everything the services and the seed job import', () => {
    const root = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    for (const workspace of ['@cruise/gateway', '@cruise/inventory', '@cruise/shared']) {
      expect(root.dependencies[workspace], workspace).toBeDefined();
    }
  });
});

describe('.env.example', () => {
  const example = read('.env.example');
  const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));

  it('lists every variable the configuration, the code and compose read', () => {
    const schema = (configSchema as unknown as { in: { shape: Record<string, unknown> } }).in.shape;
    const wanted = new Set([
      ...Object.keys(schema),
      ...codeEnvReads(),
      ...composeVariables(read('docker-compose.yml')),
    ]);
    expect([...wanted].filter((n) => !listed.has(n)).sort()).toEqual([]);
  });

  it('gives each variable a comment and says how to generate each secret', () => {
    const lines = example.split('\n');
    for (const [i, line] of lines.entries()) {
      const name = /^([A-Z0-9_]+)=/.exec(line)?.[1];
      if (!name) continue;
      // The comment block above the variable (or above its group of siblings).
      let j = i - 1;
      while (j >= 0 && /^[A-Z0-9_]+=/.test(lines[j]!)) j--;
      expect(lines[j], `${name} has a comment`).toMatch(/^#/);
      if ((SECRET_VARIABLES as readonly string[]).includes(name) || /PASSWORD$/.test(name)) {
        let k = j;
        let block = '';
        while (k >= 0 && lines[k]!.startsWith('#')) block = `${lines[k--]}\n${block}`;
        expect(block, `${name}: how to generate`).toMatch(/openssl rand -(base64 48|hex 32)/);
      }
    }
  });
});

describe('the production start path', () => {
  let ctx: TestContext | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await ctx?.cleanup();
  });

  const strong = () => randomBytes(36).toString('base64');
  const productionEnv = (c: TestContext, port: number): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: c.env.DATABASE_URL!,
    REDIS_URL: c.env.REDIS_URL!,
    REDIS_PREFIX: c.id,
    NATS_URL: c.env.NATS_URL!,
    NATS_PREFIX: c.id,
    REDEMPTION_PORT: String(port),
    ...Object.fromEntries(SECRET_VARIABLES.map((n) => [n, strong()])),
  });
  /** As the image runs it: `node <entry>.ts`, no loader, no tsx anywhere. */
  const plainNode = (env: Record<string, string>) =>
    spawn(
      process.execPath,
      ['--max-semi-space-size=16', path.join('services', 'redemption', 'src', 'server.ts')],
      {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );

  it('starts a service with plain node (Node 24 type stripping) to ready, in production mode', async () => {
    ctx = await createTestContext();
    const port = await freePort();
    child = plainNode(productionEnv(ctx, port));
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      // Our process, not another test's that took the free port first.
      if (ready === 200 && (await listensOn(child.pid!, port))) break;
      if (Date.now() > deadline) throw new Error(`not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX/);
  }, 180_000);

  it('exits naming the variable when a secret is weak', async () => {
    const c = ctx ?? (await createTestContext());
    const cases = [
      ['ADMIN_TOKEN', 'dev-admin-token'],
      ['QR_SIGNING_KEY', `${strong()}-change-me`],
      ['METRICS_TOKEN', 'short-token'],
    ] as const;
    // In parallel: each process loads the whole service before its configuration refuses it.
    const results = await Promise.all(
      cases.map(async ([name, value]) => {
        const weak = plainNode({ ...productionEnv(c, await freePort()), [name]: value });
        let stderr = '';
        weak.stderr?.on('data', (d) => (stderr += d));
        const code = await new Promise<number | null>((r) => weak.once('exit', r));
        return { name, code, stderr };
      }),
    );
    for (const { name, code, stderr } of results) {
      expect(code, name).toBe(1);
      expect(stderr, name).toMatch(new RegExp(`${name}: `));
    }
  }, 180_000);
});
