// The bench's figures: each measured value next to the baseline measured in the same run, the ratio,
// and the target it is compared with. Printed as a table and written to bench/results.json.

export interface Figure {
  scenario: string;
  measure: string;
  value: number;
  unit: string;
  /** The same work without the system around it, measured in this run. */
  baseline?: { label: string; value: number; unit: string };
  /** value / baseline (or the difference, for "added latency" figures, see `ratioLabel`). */
  ratio?: number;
  target?: { text: string; met: boolean };
  note?: string;
}

export interface ScenarioOutcome {
  scenario: string;
  status: 'ok' | 'failed' | 'skipped';
  figures: Figure[];
  /** Correctness checks made after the load (counts, invariants). */
  checks: { name: string; ok: boolean; detail: string }[];
  error?: string;
  details?: Record<string, unknown>;
}

const fmt = (v: number, unit: string) => {
  if (!Number.isFinite(v)) return 'n/a';
  const digits = unit === 'ms' ? (v < 10 ? 2 : 1) : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
};

export function renderTable(outcomes: ScenarioOutcome[]): string {
  const header = ['Scenario', 'Measure', 'Value', 'Baseline (same run)', 'Ratio', 'Target', 'Met'];
  const rows: string[][] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok' && o.figures.length === 0) {
      rows.push([o.scenario, o.status.toUpperCase(), '', '', '', '', (o.error ?? '').slice(0, 80)]);
      continue;
    }
    for (const f of o.figures) {
      rows.push([
        f.scenario,
        f.measure,
        fmt(f.value, f.unit),
        f.baseline ? `${fmt(f.baseline.value, f.baseline.unit)} (${f.baseline.label})` : '',
        f.ratio === undefined ? '' : Number.isFinite(f.ratio) ? f.ratio.toFixed(2) : 'n/a',
        f.target?.text ?? '',
        f.target ? (f.target.met ? 'yes' : 'NO') : '',
      ]);
    }
    for (const c of o.checks) {
      rows.push([o.scenario, `check: ${c.name}`, c.ok ? 'ok' : 'FAILED', '', '', '', c.detail.slice(0, 80)]);
    }
    if (o.status === 'failed')
      rows.push([o.scenario, 'FAILED', '', '', '', '', (o.error ?? '').slice(0, 80)]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
