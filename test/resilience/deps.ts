// Runtime libraries the resilience suite and the bench share with the test kit. The root package does not
// list them (pnpm keeps dependencies strict), so they are loaded from the test kit's own dependencies.
import { createRequire } from 'node:module';

const fromTestkit = createRequire(createRequire(import.meta.url).resolve('@cruise/testkit'));

export const pg = fromTestkit('pg') as typeof import('pg');
