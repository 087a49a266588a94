// NATS and Redis with credentials, as docker-compose.yml runs them: a nats-server started with the
// rendering of deploy/nats.conf (one user per service, subject permissions) for this file's prefix, and
// a redis-server with requirepass. The whole system runs on them (a partner journey from hold to scan
// crosses every command and event it uses), while each service's user is refused outside its own
// subjects and clients without credentials are refused outright.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  commands,
  type NatsServiceUser,
  natsPasswordVariable,
  renderNatsConfig,
  streamName,
  subject,
} from '@cruise/shared';
import {
  createTestContext,
  freePort,
  type PrivateRedis,
  REPO_ROOT,
  startRedisServer,
  type TestContext,
} from '@cruise/testkit';
import { Redis } from 'ioredis';
import { connect, type JetStreamManager, JSONCodec, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  pay,
  type System,
  startSystem,
  visitDate,
} from '../resilience/system.ts';

const USERS: NatsServiceUser[] = ['gateway', 'inventory', 'issuance', 'redemption', 'notifications', 'octo'];
// nats-server parses the value of a $VARIABLE as config: one starting with a digit is read as a number and
// the server refuses to start. Generated NATS passwords therefore start with a letter (as .env.example says).
const passwords = Object.fromEntries(USERS.map((u) => [u, `n${randomBytes(24).toString('hex')}`])) as Record<
  NatsServiceUser,
  string
>;
const redisPassword = randomBytes(24).toString('hex');

let ctx: TestContext;
let dir: string;
let natsServer: ChildProcess;
let redisServer: PrivateRedis;
let natsPort: number;
let monitorPort: number;
let redisPort: number;
let system: System;
let db: pg.Pool;
let partner: Partner;
const output: string[] = [];
const codec = JSONCodec<unknown>();

async function waitUntil(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await probe().catch(() => false))) {
    if (natsServer?.exitCode != null) throw new Error(`${what}: nats-server exited:\n${output.join('')}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const natsUrl = (user: NatsServiceUser, password = passwords[user]) =>
  `nats://${user}:${password}@127.0.0.1:${natsPort}`;
const asUser = (user: NatsServiceUser) =>
  connect({ servers: `127.0.0.1:${natsPort}`, user, pass: passwords[user], reconnect: false });

beforeAll(async () => {
  ctx = await createTestContext();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cruise-creds-'));
  [natsPort, monitorPort] = await Promise.all([freePort(), freePort()]);
  const conf = path.join(dir, 'nats.conf');
  writeFileSync(conf, renderNatsConfig(ctx.id));
  natsServer = spawn(
    '/usr/sbin/nats-server',
    ['-c', conf, '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort)],
    {
      env: {
        ...process.env,
        NATS_STORE_DIR: dir,
        ...Object.fromEntries(USERS.map((u) => [natsPasswordVariable(u), passwords[u]])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  natsServer.stdout?.on('data', (d) => output.push(d.toString()));
  natsServer.stderr?.on('data', (d) => output.push(d.toString()));
  // The monitoring endpoint docker-compose's health check probes.
  await waitUntil('nats-server', async () => (await fetch(`http://127.0.0.1:${monitorPort}/healthz`)).ok);
  redisServer = await startRedisServer({ password: redisPassword });
  redisPort = redisServer.port;

  const env = {
    PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
    REDIS_URL: redisServer.url,
  };
  system = await startSystem({
    databaseUrl: ctx.env.DATABASE_URL!,
    redisUrl: env.REDIS_URL,
    natsUrl: natsUrl('gateway'),
    prefix: ctx.id,
    // Four processes loading at once on a busy machine can take longer than the default minute.
    readyTimeoutMs: 150_000,
    env,
    serviceEnv: Object.fromEntries(USERS.map((u) => [u, { NATS_URL: natsUrl(u) }])),
  });
  db = new pg.Pool({ connectionString: ctx.env.DATABASE_URL, max: 2 });
  partner = await operator(system).createPartner('Credentials partner', 100_000);
  await operator(system).allocate(partner.partner_id, 106, 'ota', 20);
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await db?.end();
  if (natsServer && natsServer.exitCode === null) {
    const exited = new Promise((r) => natsServer.once('exit', r));
    natsServer.kill('SIGTERM');
    await exited;
  }
  await redisServer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await ctx?.cleanup();
}, 60_000);

async function hold(quantity = 1) {
  return expectStatus(
    await call('POST', `${system.gateway}/api/ota/reservations`, {
      token: partner.api_key,
      body: { product_id: 106, visit_date: visitDate(2), items: [{ customer_type: 'adult', quantity }] },
    }),
    201,
    'hold',
  );
}

async function reservationStatus(id: string): Promise<string> {
  const { rows } = await db.query('SELECT status FROM inventory.reservations WHERE id = $1', [id]);
  return rows[0].status;
}

/** Resolves with the outcome of a NATS call: 'ok' or the error's code/message. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  }
}

describe('deploy/nats.conf', () => {
  it('is the current rendering of the permission table for the default prefix', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'deploy', 'nats.conf'), 'utf8')).toBe(
      renderNatsConfig('cruise'),
    );
  });
});

describe('the system on NATS users with permissions and a Redis password', () => {
  it('runs a partner journey across every command and event: hold, pay, tickets, QR, scan', async () => {
    const reservation = await hold(1);
    // issuance → inventory: create-reservation, get-reservation, confirm-hold (inventory asks nothing back).
    const paid = expectStatus(
      await pay(system, reservation, `pay-${randomBytes(4).toString('hex')}`),
      200,
      'pay',
    );
    const code = paid.tickets[0].ticket_code as string;
    const device = await operator(system).createDevice('Creds pier', 'Gate C');
    // Redemption learns the ticket from issuance's event (its durable consumer) or asks for a snapshot.
    let qr: { qr_token: string } | undefined;
    for (let i = 0; i < 50 && !qr; i++) {
      const res = await call('POST', `${system.gateway}/qr/${code}`, { token: partner.api_key });
      if (res.status === 200 || res.status === 201) qr = res.body;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(qr?.qr_token).toBeTruthy();
    const scan = await call('POST', `${system.gateway}/venue/redeem`, {
      token: device.device_key,
      body: { qr_token: qr!.qr_token, function_code: 'FERRY' },
    });
    expect(scan.status, scan.text).toBe(200);
    expect(scan.body.result).toBe('ACCEPTED');
    // Issuance consumes redemption's event: the entitlement shows as redeemed there too.
    for (let i = 0; i < 100; i++) {
      const info = await call('GET', `${system.gateway}/api/ota/tickets/${code}`, { token: partner.api_key });
      const ferry = info.body.entitlements?.find(
        (e: { function_code: string }) => e.function_code === 'FERRY',
      );
      if (ferry?.redeemed_at) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('issuance never saw the redemption event');
  });

  it("refuses a service's user outside its permissions, and nothing happens", async () => {
    const held = await hold(1);
    const confirm = {
      reservation_id: held.reservation_id,
      payment_id: 'forged-over-nats',
      amount: held.total,
    };
    const redemption = await asUser('redemption');
    const inventory = await asUser('inventory');
    const gateway = await asUser('gateway');
    const issuance = await asUser('issuance');
    try {
      // Requesting a command it does not use (the finding: confirm-hold over NATS by anyone).
      for (const [who, nc] of [
        ['redemption', redemption],
        ['gateway', gateway],
        ['inventory', inventory],
      ] as [string, NatsConnection][]) {
        const res = await outcome(
          nc.request(subject(ctx.id, commands.confirmHold.subject), codec.encode(confirm), {
            timeout: 2_000,
          }),
        );
        expect(res, who).toMatch(/PERMISSIONS_VIOLATION/);
      }
      // No runtime cycle: inventory's user cannot request any of issuance's commands (it used to send
      // check-reseller and reservation-tickets; now issuance checks the reseller and adds the tickets).
      const issuanceCommands = Object.values(commands).filter((c) => c.subject.startsWith('issuance.'));
      expect(issuanceCommands.length).toBeGreaterThan(0);
      for (const command of issuanceCommands) {
        const res = await outcome(
          inventory.request(
            subject(ctx.id, command.subject),
            codec.encode({ partner_id: partner.partner_id, reservation_id: held.reservation_id }),
            { timeout: 2_000 },
          ),
        );
        expect(res, command.subject).toMatch(/PERMISSIONS_VIOLATION/);
      }
      expect(await reservationStatus(held.reservation_id)).toBe('ON_HOLD');

      // Publishing another service's events: nothing reaches the stream.
      const jsm = await issuance.jetstreamManager();
      const forgedSubject = subject(ctx.id, 'events.issuance.tickets.issued');
      // Counted on the forged subject only: the system's own events keep reaching the stream meanwhile
      // (the outboxes relay on their own), and the whole stream's count once grew by one here.
      const before = await storedOn(jsm, forgedSubject);
      expect(before).toBeGreaterThan(0); // the journey's tickets: the count is real
      const forgedEvent = redemption.jetstream().publish(forgedSubject, codec.encode({ forged: true }), {
        timeout: 2_000,
      });
      expect(await outcome(forgedEvent)).not.toBe('ok');
      expect(await storedOn(jsm, forgedSubject)).toBe(before);

      // Impersonating a responder: subscribing to inventory's commands is refused.
      const sub = redemption.subscribe(subject(ctx.id, commands.confirmHold.subject));
      const subscriptionError = await outcome(
        (async () => {
          for await (const _ of sub) return;
        })(),
      );
      expect(subscriptionError).toMatch(/PERMISSIONS_VIOLATION|Permissions Violation/i);

      // The allowed path still works for the service that owns it: issuance asks inventory.
      const reply = (await issuance
        .request(
          subject(ctx.id, commands.getReservation.subject),
          codec.encode({ reservation_id: held.reservation_id }),
          { timeout: 5_000 },
        )
        .then((m) => codec.decode(m.data))) as { ok: boolean };
      expect(reply.ok).toBe(true);
    } finally {
      await Promise.all([redemption, inventory, gateway, issuance].map((nc) => nc.close()));
    }
  });

  it('refuses NATS clients without credentials or with a wrong password', async () => {
    for (const servers of [`127.0.0.1:${natsPort}`, natsUrl('inventory', 'guessed-password')]) {
      const res = await outcome(connect({ servers, reconnect: false, timeout: 2_000 }));
      expect(res, servers).toMatch(/AUTHORIZATION_VIOLATION|Authorization Violation/i);
    }
  });

  it('refuses Redis clients without the password', async () => {
    const anonymous = new Redis({
      port: redisPort,
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    anonymous.on('error', () => {});
    try {
      await anonymous.connect();
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});

/** How many messages the stream holds on `subj`. */
async function storedOn(jsm: JetStreamManager, subj: string): Promise<number> {
  const info = await jsm.streams.info(streamName(ctx.id), { subjects_filter: subj });
  return info.state.subjects?.[subj] ?? 0;
}
