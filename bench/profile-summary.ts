// `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: the top frames of a V8 CPU profile (as
// written by `node --cpu-prof`, e.g. with `BENCH_CPU_PROFILE=redemption pnpm bench`) by self time, and
// the same time grouped by package (node_modules/<pkg>, node: internals, the repository's own code).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
const topArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};
const top = Number(topArg ?? 25);
// Self time per node from the sample deltas (µs).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const frame = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules')
    ? url.slice(url.lastIndexOf('node_modules/') + 'node_modules/'.length)
    : url.replace(/^.*?\/(services|packages)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
};
const group = (n: Node) => {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
  if (m) return m[1]!;
  const own = /\/(services\/[^/]+|packages\/[^/]+)\//.exec(url);
  return own ? own[1]! : url;
};
const frames = new Map<string, number>();
const groups = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  frames.set(frame(n), (frames.get(frame(n)) ?? 0) + us);
  groups.set(group(n), (groups.get(group(n)) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nby package (self time):');
for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`${pct(us)} ${ms(us)}  ${g}`);
console.log(`\ntop ${top} frames (self time):`);
for (const [f, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(us)} ${ms(us)}  ${f}`);
