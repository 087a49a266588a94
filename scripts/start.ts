// `pnpm start`: the whole system on one machine against local PostgreSQL, Redis and NATS.
// Creates the database if missing, migrates, seeds the catalogue and the demo partner (printing its key
// the first time), then runs the services as separate processes and restarts any that dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadDotenv, SERVICE_NODE_FLAGS } from '@cruise/shared';
import { ensureAppsBuilt } from './build-apps.ts';
import { prepareDatabase } from './prepare-database.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = createRequire(import.meta.url).resolve('tsx');

await loadDotenv();
// The gateway signs what it forwards with INTERNAL_TOKEN and the services verify it: every process of
// this deployment needs the same secret. None configured: one random secret for this run, never a
// constant (a constant would let anyone who reaches a service port sign as the gateway).
if (!process.env.INTERNAL_TOKEN) {
  process.env.INTERNAL_TOKEN = randomBytes(32).toString('base64url');
  console.log('[start] INTERNAL_TOKEN not configured: generated a random one for this run');
}
const config = loadConfig();

await prepareDatabase(config);
// The browser apps the gateway serves: built when missing or older than their sources.
const builtApps = await ensureAppsBuilt();
if (builtApps.length > 0) console.log(`[start] built apps: ${builtApps.join(', ')}`);

const services = [
  ['inventory', config.INVENTORY_PORT],
  ['issuance', config.ISSUANCE_PORT],
  ['redemption', config.REDEMPTION_PORT],
  ['notifications', config.NOTIFICATIONS_PORT],
  ['octo', config.OCTO_PORT],
  ['gateway', config.GATEWAY_PORT],
] as const;

const children = new Map<string, ChildProcess>();
let stopping = false;

function run(name: string, attempt = 0): void {
  const child = spawn(
    process.execPath,
    [...SERVICE_NODE_FLAGS, '--import', tsx, path.join(root, 'services', name, 'src', 'server.ts')],
    {
      stdio: 'inherit',
      env: process.env,
    },
  );
  children.set(name, child);
  const startedAt = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    // A service that keeps dying right after start backs off instead of spinning.
    const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
    const delay = Math.min(30_000, 500 * 2 ** next);
    console.error(`[start] ${name} exited (${signal ?? code}); restarting in ${delay} ms`);
    setTimeout(() => run(name, next), delay);
  });
}

for (const [name] of services) run(name);

const deadline = Date.now() + 60_000;
for (const [name, port] of services) {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      console.error(`[start] ${name} is not ready on port ${port} after 60 s; still trying`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
console.log(
  `[start] ready: gateway http://localhost:${config.GATEWAY_PORT} (docs at /docs), inventory :${config.INVENTORY_PORT}, ` +
    `issuance :${config.ISSUANCE_PORT}, redemption :${config.REDEMPTION_PORT}, notifications :${config.NOTIFICATIONS_PORT}, ` +
    `octo :${config.OCTO_PORT}`,
);
console.log(
  `[start] operator token: ADMIN=${config.ADMIN_TOKEN}` +
    (process.env.ADMIN_TOKEN
      ? ' (from ADMIN_TOKEN)'
      : ' (the development default; set ADMIN_TOKEN to change it)'),
);
console.log(
  `[start] scanner app:      http://localhost:${config.GATEWAY_PORT}/scanner/  (sign in with a device key)`,
);
console.log(
  `[start] operator console: http://localhost:${config.GATEWAY_PORT}/console/  (sign in with ADMIN_TOKEN)`,
);

async function shutdown(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  console.log(`[start] ${signal}: stopping services`);
  const exits = [...children.values()].map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of children.values()) c.kill('SIGTERM');
  await Promise.all(exits);
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
