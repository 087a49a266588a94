// The scans waiting for an answer, persisted in IndexedDB (idb-keyval) under their nonce. A scan is
// written here before it is sent and deleted only once the server answered it, so a dropped
// connection or a closed tab loses nothing; resending it with the same nonce gets the original answer
// from the server, never a second redemption.
import { createStore, del, entries, set } from 'idb-keyval';
import type { ScanRequest } from './api.ts';

export interface PendingScan {
  nonce: string;
  request: ScanRequest;
  queued_at: string;
}

const store = createStore('cruise-scanner', 'pending-scans');

export async function enqueue(request: ScanRequest): Promise<PendingScan> {
  const pending: PendingScan = { nonce: request.nonce, request, queued_at: new Date().toISOString() };
  await set(pending.nonce, pending, store);
  return pending;
}

export async function pendingScans(): Promise<PendingScan[]> {
  const all = await entries<string, PendingScan>(store);
  return all.map(([, scan]) => scan).sort((a, b) => a.queued_at.localeCompare(b.queued_at));
}

/** `retry`: no answer (offline, or the service said to retry): keep it and stop for now. */
export type SendOutcome = 'answered' | 'retry';

let running: Promise<void> | null = null;
let again = false;

/**
 * Sends the waiting scans oldest first, one at a time (a gate's scans keep their order). Only one
 * flush runs at once; a call during a flush makes it look again when it finishes.
 */
export function flush(send: (scan: PendingScan) => Promise<SendOutcome>): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      for (const scan of await pendingScans()) {
        if ((await send(scan)) === 'retry') return;
        await del(scan.nonce, store);
      }
    } while (again);
  })().finally(() => {
    running = null;
  });
  return running;
}

/** A nonce unique per scan. crypto.randomUUID needs a secure context; getRandomValues does not. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `scan-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
