// `pnpm nats-conf`: writes deploy/nats.conf (NATS users and subject permissions) from the table in
// packages/shared/src/nats-permissions.ts, for NATS_PREFIX (default `cruise`). Run it after changing a
// command, an event or which service uses what; test/deploy/nats-permissions.test.ts checks it is current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderNatsConfig } from '@cruise/shared';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prefix = process.env.NATS_PREFIX || 'cruise';
const target = path.join(root, 'deploy', 'nats.conf');
writeFileSync(target, renderNatsConfig(prefix));
console.log(`wrote ${path.relative(root, target)} for NATS_PREFIX=${prefix}`);
