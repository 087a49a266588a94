// Regenerates @cruise/client's types from the OpenAPI document the gateway serves: the gateway app is
// built exactly as in production (buildApp) and /openapi.json is read through inject, so nothing listens.
// `--check` writes nothing and exits 1 when the committed types differ from what the gateway generates
// (CI runs it, so the client can never drift from the contract).
//
// Building the app needs PostgreSQL, Redis and NATS reachable (the usual local defaults or the usual
// variables); nothing is written to them: the app is closed before it serves anything but the document.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '@cruise/gateway';
import { closeServiceDeps, createServiceDeps, loadConfig } from '@cruise/shared';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = path.join(ROOT, 'packages/client/src/generated/openapi.ts');

async function gatewayDocument(): Promise<Record<string, unknown>> {
  // A throwaway prefix: this build must never share keys or subjects with a running deployment.
  const prefix = `clientgen${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: prefix,
    NATS_PREFIX: prefix,
  });
  const deps = await createServiceDeps(config, 'gateway');
  try {
    const app = await buildApp(config, deps, { logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/openapi.json' });
      if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}: ${res.body}`);
      return res.json();
    } finally {
      await app.close();
    }
  } finally {
    await closeServiceDeps(deps);
  }
}

/** `METHOD /path` of every operation that takes an Idempotency-Key: the client sends one on each. */
function idempotentOperations(document: Record<string, unknown>): string[] {
  const paths = (document.paths ?? {}) as Record<string, Record<string, { parameters?: unknown[] }>>;
  const found: string[] = [];
  for (const [route, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const takesKey = (operation.parameters ?? []).some((p) => {
        const { in: where, name } = p as { in?: string; name?: string };
        return where === 'header' && name?.toLowerCase() === 'idempotency-key';
      });
      if (takesKey) found.push(`${method.toUpperCase()} ${route}`);
    }
  }
  return found.sort();
}

export async function generateClientTypes(): Promise<string> {
  const document = await gatewayDocument();
  const ast = await openapiTS(document as never, { silent: true, alphabetize: true });
  const creates = idempotentOperations(document)
    .map((op) => `    ${JSON.stringify(op)},\n`)
    .join('');
  return (
    COMMENT_HEADER +
    astToString(ast) +
    '/** Operations that honour Idempotency-Key (the creates). */\n' +
    `export const idempotentOperations: readonly string[] = [\n${creates}];\n`
  );
}

const check = process.argv.includes('--check');
const fresh = await generateClientTypes();
if (check) {
  const committed = await readFile(TARGET, 'utf8').catch(() => '');
  if (committed !== fresh) {
    console.error(
      `${path.relative(ROOT, TARGET)} differs from what the gateway's OpenAPI document generates.\n` +
        'Run `pnpm client:generate` and commit the result.',
    );
    process.exit(1);
  }
  console.log(`${path.relative(ROOT, TARGET)} matches the gateway's OpenAPI document.`);
} else {
  await writeFile(TARGET, fresh);
  console.log(`wrote ${path.relative(ROOT, TARGET)} (${fresh.length} bytes)`);
}
process.exit(0);
