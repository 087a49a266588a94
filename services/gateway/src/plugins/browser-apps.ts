// Serves the browser apps (api.md, "Apps") built by `pnpm build` into apps/<name>/dist: the scanner at
// /scanner/ and the operator console at /console/, on the API's origin so they need no CORS.
// Hashed assets (assets/*-<hash>.js) never change under their name: cached for a year, immutable.
// Everything else (index.html, the service worker, the manifest) is revalidated on every load, so a new
// build reaches users at their next visit. A missing build answers 503 with what to run, not a crash.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const BROWSER_APPS = ['scanner', 'console'] as const;

/** apps/ at the repository root (this file is services/gateway/src/plugins/browser-apps.ts). */
export const DEFAULT_APPS_DIR = fileURLToPath(new URL('../../../../apps/', import.meta.url));

const IMMUTABLE = 'public, max-age=31536000, immutable';

async function browserApps(app: FastifyInstance, opts: { appsDir?: string }): Promise<void> {
  const appsDir = opts.appsDir ?? DEFAULT_APPS_DIR;
  let decorated = false;
  for (const name of BROWSER_APPS) {
    const root = join(appsDir, name, 'dist');
    const prefix = `/${name}/`;
    if (!existsSync(join(root, 'index.html'))) {
      app.log.warn({ app: name, root }, `the ${name} app is not built; run pnpm build`);
      const notBuilt = async (_request: unknown, reply: import('fastify').FastifyReply) =>
        reply
          .code(503)
          .header('cache-control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(`The ${name} app is not built. Run \`pnpm build\` (or \`pnpm start\`, which builds it).\n`);
      app.get(`/${name}`, { schema: { hide: true } }, notBuilt);
      app.get(`${prefix}*`, { schema: { hide: true } }, notBuilt);
      continue;
    }
    // /scanner → /scanner/, where the app and its service worker's scope live.
    app.get(`/${name}`, { schema: { hide: true } }, async (_request, reply) => reply.redirect(prefix, 301));
    await app.register(fastifyStatic, {
      root,
      prefix,
      decorateReply: !decorated,
      cacheControl: false,
      // @fastify/static 10 hands setHeaders the fastify reply (not the raw response).
      setHeaders(reply, path) {
        reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? IMMUTABLE : 'no-cache');
        // The scanner's service worker controls /scanner/ only; the header states it explicitly.
        if (path.endsWith('sw.js')) reply.header('service-worker-allowed', prefix);
      },
    });
    decorated = true;
  }
}

export default fp(browserApps, { name: 'browser-apps', fastify: '5.x' });
