// How results reach the person or the script: tables on a terminal, JSON with --json, CSV where rows
// fit, and batch progress as a drawn bar on a terminal or as JSON lines otherwise.
import type { BatchProgress } from '@cruise/client';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';

export interface Output {
  json: boolean;
  /** stdout is a terminal: a progress bar can be drawn. */
  tty: boolean;
  out: (text: string) => void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    tty: Boolean(process.stdout.isTTY),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, output.tty ? 2 : undefined));
}

/** No rule between body rows: denser, and still one row per line for grep. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** A table with a header row; cells are stringified, null shows as an empty cell. */
export function table(head: string[], rows: unknown[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
  for (const row of rows) t.push(row.map(cell));
  return t.toString();
}

/** A two-column table of labelled values, for one object. */
export function details(pairs: [string, unknown][]): string {
  const t = new Table({ style: { head: [], border: [] }, chars: COMPACT });
  for (const [k, v] of pairs) t.push({ [k]: cell(v) });
  return t.toString();
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** RFC 4180: quote a field holding a comma, quote or line break. */
export function csvLine(fields: unknown[]): string {
  return fields
    .map((f) => {
      const s = f === null || f === undefined ? '' : typeof f === 'object' ? JSON.stringify(f) : String(f);
      return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
    })
    .join(',');
}

export function money(m: { amount: number; currency: string } | null | undefined): string {
  if (!m) return '';
  return `${(m.amount / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })} ${m.currency}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '…';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressReporter {
  update(p: { done: number; total: number; rate: number | null; etaSeconds: number | null }): void;
  stop(): void;
}

/**
 * A drawn bar (with rate and ETA) when stdout is a terminal and --json is off; otherwise one JSON line per
 * update: `{"event":"progress","what":"batch",…}`.
 */
export function progressReporter(output: Output, what: string, id: string, unit: string): ProgressReporter {
  if (output.json || !output.tty) {
    return {
      update(p) {
        output.out(
          JSON.stringify({
            event: 'progress',
            what,
            id,
            done: p.done,
            total: p.total,
            rate_per_second: p.rate === null ? null : Math.round(p.rate),
            eta_seconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds),
          }),
        );
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${what} ${id.slice(0, 8)} |{bar}| {percentage}% {done}/{all} ${unit} · {rate}/s · ETA {eta_text}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      stream: process.stdout,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = {
        done: p.done.toLocaleString('en-US'),
        all: p.total.toLocaleString('en-US'),
        rate: p.rate === null ? '…' : Math.round(p.rate).toLocaleString('en-US'),
        eta_text: duration(p.etaSeconds),
      };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function batchProgress(reporter: ProgressReporter): (p: BatchProgress) => void {
  return (p) =>
    reporter.update({ done: p.generated, total: p.quantity, rate: p.rate, etaSeconds: p.etaSeconds });
}
