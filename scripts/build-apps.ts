// Builds the browser apps (apps/scanner, apps/console) with Vite into apps/<name>/dist, where the
// gateway serves them. A build records a hash of its sources (dist/.source-hash); `ensureAppsBuilt`
// rebuilds only an app whose build is missing or older than its sources, so `pnpm start` and the
// browser tests stay quick when nothing changed. `pnpm build` (this file run directly) always builds;
// `pnpm build --if-stale` only what is stale.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_NAMES = ['scanner', 'console'] as const;
export type AppName = (typeof APP_NAMES)[number];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HASH_FILE = '.source-hash';
/** What is not an input of the build. */
const SKIP = new Set(['node_modules', 'dist', 'test']);
/**
 * Always a production build: Vite keeps a NODE_ENV it inherits (vitest sets `test`, a .env may say
 * `development`), which would ship development JSX and skip the service worker's registration.
 */
const BUILD_ENV = { NODE_ENV: 'production' } as const;

export function appDir(name: AppName): string {
  return path.join(root, 'apps', name);
}

/** SHA-256 over every source file's path and bytes (sources, public files, configs, package.json). */
export function sourceHash(name: AppName): string {
  const hash = createHash('sha256');
  hash.update(`${BUILD_ENV.NODE_ENV}\n`);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (SKIP.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        hash.update(path.relative(appDir(name), full));
        hash.update(readFileSync(full));
      }
    }
  };
  walk(appDir(name));
  return hash.digest('hex');
}

export function isBuildCurrent(name: AppName): boolean {
  const dist = path.join(appDir(name), 'dist');
  try {
    statSync(path.join(dist, 'index.html'));
    return readFileSync(path.join(dist, HASH_FILE), 'utf8').trim() === sourceHash(name);
  } catch {
    return false;
  }
}

export async function buildApp(name: AppName): Promise<void> {
  const dir = appDir(name);
  const hash = sourceHash(name);
  const vite = path.join(dir, 'node_modules', 'vite', 'bin', 'vite.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, ...BUILD_ENV },
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`vite build of apps/${name} exited with ${code}`)),
    );
  });
  writeFileSync(path.join(dir, 'dist', HASH_FILE), `${hash}\n`);
}

/** Builds each app whose build is missing or stale; returns the ones it built. */
export async function ensureAppsBuilt(names: readonly AppName[] = APP_NAMES): Promise<AppName[]> {
  const built: AppName[] = [];
  for (const name of names) {
    if (isBuildCurrent(name)) continue;
    await buildApp(name);
    built.push(name);
  }
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--if-stale` (./cruise.sh): only the apps whose build is missing or older than their sources.
  if (process.argv.includes('--if-stale')) {
    const built = await ensureAppsBuilt();
    console.log(`[build] ${built.length ? `built apps/${built.join(', apps/')}` : 'apps are up to date'}`);
  } else {
    for (const name of APP_NAMES) {
      console.log(`[build] apps/${name}`);
      await buildApp(name);
    }
    console.log('[build] done: served by the gateway at /scanner/ and /console/');
  }
}
