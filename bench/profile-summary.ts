// `tsx bench/profile-summary.ts <file.cpuprofile> [top] [--busiest=S]`: the top frames of a V8 CPU
// profile (as written by `node --cpu-prof`, e.g. with `BENCH_CPU_PROFILE=redemption pnpm bench`) by self
// time, and the same time grouped by package (node_modules/<pkg>, node: internals, the repository's own
// code). `--busiest=S` keeps only the S seconds with the least idle time, `--skip=S` leaves out the first S
// seconds (start-up: module loading), so the figures describe the load phase; `--from=S --to=S` keeps
// that window (seconds into the profile: one phase, found from the bench log's times).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
/** The value of `--name=value`, if given. */
const arg = (name: string) =>
  process.argv
    .slice(2)
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')[1];
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
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
// The window of `busiest` seconds with the most non-idle samples (default: the whole profile).
const busiest = Number(arg('busiest') ?? Number.NaN);
let from = 0;
let to = profile.samples.length;
if (Number.isFinite(busiest)) {
  const at: number[] = [];
  let t = 0;
  for (const d of profile.timeDeltas) {
    t += d;
    at.push(t);
  }
  let best = -1;
  let busy = 0;
  let lo = 0;
  const skipUs = Number(arg('skip') ?? 0) * 1e6;
  while (lo < at.length && at[lo]! < skipUs) lo++;
  for (let hi = lo; hi < at.length; hi++) {
    if (!idleIds.has(profile.samples[hi]!)) busy += profile.timeDeltas[hi] ?? 0;
    while (at[hi]! - at[lo]! > busiest * 1e6) {
      if (!idleIds.has(profile.samples[lo]!)) busy -= profile.timeDeltas[lo] ?? 0;
      lo++;
    }
    if (busy > best) {
      best = busy;
      from = lo;
      to = hi + 1;
    }
  }
  console.log(
    `busiest ${busiest} s: ${(at[from]! / 1e6).toFixed(1)}-${(at[to - 1]! / 1e6).toFixed(1)} s into the profile`,
  );
}
// `--from=S --to=S`: an explicit window, in seconds into the profile (one phase of a scenario).
if (arg('from') !== undefined || arg('to') !== undefined) {
  const fromUs = Number(arg('from') ?? 0) * 1e6;
  const toUs = Number(arg('to') ?? Number.POSITIVE_INFINITY) * 1e6;
  let t = 0;
  from = profile.samples.length;
  to = 0;
  profile.timeDeltas.forEach((d, i) => {
    t += d;
    if (t >= fromUs && t <= toUs) {
      from = Math.min(from, i);
      to = i + 1;
    }
  });
  console.log(`window ${fromUs / 1e6}-${toUs / 1e6} s into the profile`);
}
// Self time per node from the sample deltas (µs).
const selfUs = new Map<number, number>();
for (let i = from; i < to; i++) {
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
