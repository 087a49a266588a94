// `pnpm openapi:lint`: writes the OpenAPI document the gateway serves (the same generator buildApp uses,
// over the same route catalogue) and lints it with Redocly's `recommended` ruleset. Any warning fails, as
// does an operation without a description or examples in services/gateway/src/openapi/examples.ts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, documentationGaps } from '@cruise/gateway';
import { allRoutes } from '@cruise/shared';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
const dir = await mkdtemp(path.join(tmpdir(), 'cruise-openapi-'));
const file = out ? path.resolve(out) : path.join(dir, 'openapi.json');
await writeFile(file, `${JSON.stringify(buildOpenApiDocument(allRoutes), null, 2)}\n`);

let failed = false;
const gaps = documentationGaps(allRoutes);
if (gaps.length > 0) {
  failed = true;
  console.error(
    `openapi: ${gaps.length} operation(s) lack docs in services/gateway/src/openapi/examples.ts:\n` +
      gaps.map((g) => `  - ${g}`).join('\n'),
  );
}

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[];
}
const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
const report = await new Promise<LintReport>((resolve, reject) => {
  execFile(
    process.execPath,
    [cli, 'lint', file, '--config', path.join(root, 'redocly.yaml'), '--format=json', '--max-problems=1000'],
    { maxBuffer: 64 * 1024 * 1024 },
    (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout) as LintReport);
      } catch {
        reject(new Error(`redocly did not report: ${err?.message ?? ''}\n${stderr}`));
      }
    },
  );
});
for (const p of report.problems) {
  console.error(`  ${p.severity} ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer ?? ''})`);
}
if (report.totals.errors > 0 || report.totals.warnings > 0) {
  failed = true;
  console.error(
    `openapi: Redocly recommended: ${report.totals.errors} errors, ${report.totals.warnings} warnings`,
  );
}
await rm(dir, { recursive: true, force: true });
if (failed) process.exit(1);
console.log(
  `openapi: ${allRoutes.length} operations documented; Redocly recommended: no errors, no warnings`,
);
