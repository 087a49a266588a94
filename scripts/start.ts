// `pnpm start`: the whole system on one machine against local PostgreSQL, Redis and NATS.
// Creates the database if missing, migrates, seeds the catalogue and the demo partner (printing its key
// the first time), builds the browser apps when stale, then runs the six services as separate processes and
// restarts any that dies. Once all are ready it prints a one-screen banner, and writes the operator token
// and the payment webhook secret the services really use into .cruise/ (CRUISE_STATE_DIR), where the
// README's walkthrough and local tools read them.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
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

const demo = await prepareDatabase(config);
// The browser apps the gateway serves: built when missing or older than their sources.
const builtApps = await ensureAppsBuilt();
if (builtApps.length > 0) console.log(`[start] built apps: ${builtApps.join(', ')}`);

const stateDir = path.resolve(process.env.CRUISE_STATE_DIR ?? path.join(root, '.cruise'));
/** Writes a file only this user can read (these are credentials of the local deployment). */
async function writeSecretFile(name: string, content: string) {
  const file = path.join(stateDir, name);
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
await mkdir(stateDir, { recursive: true, mode: 0o700 });
const adminTokenFile = await writeSecretFile('admin-token', `${config.ADMIN_TOKEN}\n`);
await writeSecretFile('payment-webhook-secret', `${config.PAYMENT_WEBHOOK_SECRET}\n`);
await writeSecretFile('gateway-url', `http://localhost:${config.GATEWAY_PORT}\n`);
if (demo.api_key) {
  await writeSecretFile('demo-partner.json', `${JSON.stringify(demo, null, 2)}\n`);
}

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

// The banner waits for every service: on a busy machine start-up can take a minute; say so, keep waiting.
const deadline = Date.now() + 60_000;
for (const [name, port] of services) {
  let warned = false;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (!warned && Date.now() > deadline) {
      console.error(
        `[start] ${name} is not ready on port ${port} after 60 s; still waiting (see its log above)`,
      );
      warned = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
printBanner();

function printBanner() {
  const gateway = `http://localhost:${config.GATEWAY_PORT}`;
  const rel = (file: string) => path.relative(process.cwd(), file) || file;
  const adminSource = process.env.ADMIN_TOKEN
    ? 'from ADMIN_TOKEN'
    : 'the development default; set ADMIN_TOKEN to change it';
  const demoKey = demo.api_key
    ? `${demo.api_key}  (shown once; also in ${rel(path.join(stateDir, 'demo-partner.json'))})`
    : `created on the first start; see ${rel(path.join(stateDir, 'demo-partner.json'))} if that start was here`;
  const lines = [
    `[start] ready: gateway ${gateway}, inventory :${config.INVENTORY_PORT}, issuance :${config.ISSUANCE_PORT}, ` +
      `redemption :${config.REDEMPTION_PORT}, notifications :${config.NOTIFICATIONS_PORT}, octo :${config.OCTO_PORT}`,
    '',
    '  Cruise ticketing is running',
    `    gateway      ${gateway}            (the public API; everything goes through it)`,
    `    API docs     ${gateway}/docs       OpenAPI: ${gateway}/openapi.json`,
    `    scanner app  ${gateway}/scanner/   (sign in with a device key)`,
    `    console      ${gateway}/console/   (sign in with the operator token)`,
    `    OCTO         ${gateway}/octo/      (resellers' OCTO API; a partner key as Bearer)`,
    `    services     inventory :${config.INVENTORY_PORT}  issuance :${config.ISSUANCE_PORT}  redemption :${config.REDEMPTION_PORT}  ` +
      `notifications :${config.NOTIFICATIONS_PORT}  octo :${config.OCTO_PORT}  (gateway-signed requests only)`,
    '    metrics      /metrics on each service (Prometheus); dashboards and alerts in ops/',
    `    operator token: ADMIN=${config.ADMIN_TOKEN}  (${adminSource}; also in ${rel(adminTokenFile)})`,
    `    demo partner ${demo.partner_id}`,
    `    demo key     ${demoKey}`,
    `    logs         LOG_LEVEL=${config.LOG_LEVEL} (debug shows every request)   stop: Ctrl-C`,
    '',
  ];
  console.log(lines.join('\n'));
}

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
