// The permission table keeps commands flowing one way: inventory answers, it never asks. A NATS subject
// pattern (`*` one token, `>` the rest) is matched here as nats-server matches it, so no allow entry of
// inventory's user (commands, events, JetStream API) can reach a subject issuance answers.
import { describe, expect, it } from 'vitest';
import { commands, subject } from './messages.ts';
import { NATS_USAGE, natsPermissions } from './nats-permissions.ts';

function matches(pattern: string, name: string): boolean {
  const p = pattern.split('.');
  const n = name.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return n.length > i;
    if (i >= n.length) return false;
    if (p[i] !== '*' && p[i] !== n[i]) return false;
  }
  return p.length === n.length;
}

describe('the NATS permission table', () => {
  const prefix = 'cruise';
  const issuanceSubjects = Object.values(commands)
    .filter((c) => c.subject.startsWith('issuance.'))
    .map((c) => subject(prefix, c.subject));

  it('the matcher reads wildcards as nats-server does', () => {
    expect(matches('cruise.events.inventory.>', 'cruise.events.inventory.a.b')).toBe(true);
    expect(matches('cruise.events.inventory.>', 'cruise.events.inventory')).toBe(false);
    expect(matches('cruise.*.cmd.x', 'cruise.issuance.cmd.x')).toBe(true);
    expect(matches('>', 'cruise.issuance.cmd.x')).toBe(true);
    expect(matches('cruise.issuance.cmd.x', 'cruise.issuance.cmd.y')).toBe(false);
  });

  it('gives inventory no way to publish to any command issuance answers (no runtime cycle)', () => {
    expect(NATS_USAGE.inventory.requests).toEqual([]);
    expect(issuanceSubjects.length).toBeGreaterThan(0);
    const { publish } = natsPermissions(prefix, 'inventory');
    for (const target of issuanceSubjects) {
      expect(
        publish.filter((allowed) => matches(allowed, target)),
        target,
      ).toEqual([]);
    }
  });

  it('who asks whom has no cycle', () => {
    const asks = new Map<string, Set<string>>();
    for (const [service, usage] of Object.entries(NATS_USAGE)) {
      const owners = usage.requests.map((name) => commands[name].subject.split('.')[0]!);
      asks.set(service, new Set(owners));
    }
    // Depth-first: a service met again while still on the path closes a cycle.
    const onPath = new Set<string>();
    const done = new Set<string>();
    const cycleFrom = (service: string): string[] | undefined => {
      if (onPath.has(service)) return [service];
      if (done.has(service)) return undefined;
      onPath.add(service);
      for (const next of asks.get(service) ?? []) {
        const cycle = cycleFrom(next);
        if (cycle) return [service, ...cycle];
      }
      onPath.delete(service);
      done.add(service);
      return undefined;
    };
    for (const service of asks.keys()) expect(cycleFrom(service), service).toBeUndefined();
    expect([...(asks.get('issuance') ?? [])]).toEqual(['inventory']);
  });
});
