// Where CPU goes during a load run, from /proc: one process's time, the whole machine's, and an account
// per process kind (the services, PostgreSQL, Redis, NATS, the bench's own load generator, the rest).
// On this 2-core machine every process of the system and the load generator share the cores, so when
// the cores are busy a figure's throughput is the machine's CPU over what one request costs them all.
import { readdirSync, readFileSync } from 'node:fs';

const HZ = Number(process.env.CLK_TCK ?? 100);
const micros = (ticks: number) => (ticks * 1e6) / HZ;

/** A process's name (`comm`) and its CPU time so far (user + system), from /proc/<pid>/stat. */
function readStat(pid: number | string): { comm: string; micros: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    micros: micros(Number(fields[11]) + Number(fields[12])), // utime, stime (fields 14 and 15)
  };
}

/** CPU time (user + system) a process has used so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  return readStat(pid).micros;
}

/** The whole machine's CPU time so far (/proc/stat), in microseconds: busy (every process) and idle. */
function machineCpuMicros(): { busy: number; idle: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  return {
    busy: micros(user! + nice! + system! + irq! + softirq! + steal!),
    idle: micros(idle! + iowait!),
  };
}

/** Servers counted by process name, whatever their pids (PostgreSQL has one process per connection). */
const SERVERS: Record<string, string> = {
  postgres: 'PostgreSQL',
  'redis-server': 'Redis',
  'nats-server': 'NATS',
};

/** CPU time so far per process (`kind` + pid), and the whole machine's. */
type Snapshot = {
  byProcess: Map<string, { kind: string; micros: number }>;
  machine: { busy: number; idle: number };
};

function snapshot(named: Record<string, number | undefined>): Snapshot {
  const byProcess = new Map<string, { kind: string; micros: number }>();
  for (const [kind, pid] of Object.entries(named)) {
    if (pid !== undefined) byProcess.set(`${kind}:${pid}`, { kind, micros: processCpuMicros(pid) });
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { comm, micros: us } = readStat(entry);
      const kind = SERVERS[comm];
      if (kind) byProcess.set(`${kind}:${entry}`, { kind, micros: us });
    } catch {
      // exited while we looked
    }
  }
  return { byProcess, machine: machineCpuMicros() };
}

export interface CpuAccount {
  /** Microseconds per operation, by process kind, plus `other` (the rest of the machine) and `machine`. */
  perOp: Record<string, number>;
  /** Share of the machine's CPU time that was busy. */
  busy: number;
  /** "PostgreSQL 310 µs, gateway 180 µs, …, other 12 µs = 850 µs per scan (machine 97 % busy)". */
  text: string;
}

/**
 * Starts an account of the CPU the named processes, the database servers and the whole machine use;
 * `end(ops, unit)` closes it, per operation. Each process is counted by its own difference: one that
 * started in between (a PostgreSQL connection opened meanwhile) with all its CPU, one that exited in
 * between (a connection a pool closed when idle) not at all, its share of the window left in `other`.
 * (Summed by kind before the difference, an exited backend took its whole life's CPU out of the sum.)
 */
export function cpuAccount(named: Record<string, number | undefined>) {
  const before = snapshot(named);
  return {
    end(ops: number, unit: string): CpuAccount {
      const after = snapshot(named);
      const n = Math.max(1, ops);
      const used = new Map<string, number>();
      let counted = 0;
      for (const [key, { kind, micros }] of after.byProcess) {
        const us = micros - (before.byProcess.get(key)?.micros ?? 0);
        used.set(kind, (used.get(kind) ?? 0) + us);
        counted += us;
      }
      const perOp: Record<string, number> = {};
      for (const [kind, us] of used) perOp[kind] = us / n;
      const busy = after.machine.busy - before.machine.busy;
      const idle = after.machine.idle - before.machine.idle;
      perOp.other = Math.max(0, busy - counted) / n;
      perOp.machine = busy / n;
      const share = busy / Math.max(1, busy + idle);
      const parts = Object.entries(perOp)
        .filter(([name]) => name !== 'machine')
        .sort((a, b) => b[1] - a[1])
        .map(([name, us]) => `${name} ${us.toFixed(0)} µs`);
      return {
        perOp,
        busy: share,
        text: `${parts.join(', ')} = ${perOp.machine!.toFixed(0)} µs per ${unit} (machine ${(100 * share).toFixed(0)} % busy)`,
      };
    },
  };
}
