// The main entry must run in a browser: nothing it reaches may import a Node built-in. Node-only code
// belongs to the `./node` export.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const spec of importsOf(entry)) {
    if (spec.startsWith('.')) reachable(path.resolve(path.dirname(entry), spec), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('@cruise/client main entry', () => {
  it('reaches no Node built-in', () => {
    const all = [...reachable(path.join(here, 'index.ts'))];
    expect(
      all.filter((s) => s.startsWith('node:') || ['fs', 'path', 'crypto', 'stream'].includes(s)),
    ).toEqual([]);
    expect(all).toContain('openapi-fetch');
  });
  it('keeps the file stream in ./node', () => {
    expect([...reachable(path.join(here, 'node.ts'))]).toContain('node:fs');
  });
});
