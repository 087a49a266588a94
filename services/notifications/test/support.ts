// Test support for the notifications service: real receivers (node:http servers that record every
// request and answer as the test says), callers' headers, and polling.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Config, HEADER } from '@cruise/shared';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The client's end of the connection (`port`): which keep-alive connection carried the request. */
  socket: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Decides the status of each request (default 204); may wait to simulate a slow receiver. */
  answer: (req: Received, n: number) => number | Promise<number>;
  /** Distinct `webhook-id`s received with a 2xx answer. */
  acceptedIds(): Set<string>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const accepted = new Set<string>();
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    answer: () => 204,
    acceptedIds: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const r: Received = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        socket: req.socket.remotePort ?? 0,
      };
      receiver.received.push(r);
      const status = await receiver.answer(r, receiver.received.length);
      if (status >= 200 && status < 300) accepted.add(String(req.headers['webhook-id']));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** The caller headers the gateway adds; apps wrapped with `injectAsGateway` sign them as the gateway does. */
export function partnerHeaders(_config: Config, partnerId: string): Record<string, string> {
  return {
    [HEADER.callerKind]: 'partner',
    [HEADER.partnerId]: partnerId,
  };
}

export function adminHeaders(_config: Config): Record<string, string> {
  return { [HEADER.callerKind]: 'admin' };
}

/** Polls until `check` returns a truthy value (the deadline only bounds a failing test). */
export async function eventually<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Partner events as inventory would write them, published onto the real stream (tests that need no source service). */
export async function publishPartnerEvents(
  nc: import('@cruise/shared').NatsConnection,
  prefix: string,
  list: { partnerId: string; type?: import('@cruise/shared').WebhookEventType; revision?: number }[],
): Promise<string[]> {
  const { publishEvent, events } = await import('@cruise/shared');
  const { randomUUID } = await import('node:crypto');
  const now = new Date().toISOString();
  const data = {
    events: list.map((e, i) => ({
      event_id: randomUUID(),
      type: e.type ?? 'allocation.updated',
      partner_id: e.partnerId,
      created_at: now,
      revision: e.revision ?? i + 1,
      data: {
        pool: {
          product_id: 106,
          channel: 'ota',
          partner_id: e.partnerId,
          allocated: i,
          held: 0,
          sold: 0,
          available: i,
        },
      },
    })),
  };
  await publishEvent(
    nc,
    prefix,
    { id: randomUUID(), type: 'partner-events', occurred_at: now, data },
    events.inventoryPartnerEvents.subject,
  );
  return data.events.map((e) => e.event_id);
}
