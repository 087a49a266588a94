// Logs a person can read: a service writes coloured one-line text when asked for it (a terminal gets it
// by default), JSON lines otherwise; health probes and successful requests are debug lines, refusals
// info lines, so an info-level log is not buried under probes.
import {
  createTestContext,
  freePort,
  type RunningService,
  startService,
  type TestContext,
} from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

let ctx: TestContext;
const running: RunningService[] = [];
/** ANSI colour sequences (ESC [ … m), built from a string so the pattern holds no control character. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (text: string) => text.replace(ANSI, '');

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await ctx?.cleanup();
});

async function redemption(env: Record<string, string>) {
  const service = await startService('redemption', { ...ctx.env, ...env }, { port: await freePort() });
  running.push(service);
  for (let i = 0; i < 3; i++) expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  expect((await fetch(`${service.url}/metrics`)).status).toBe(200);
  // Short segments: a long one in an unmatched path is logged hashed, as a possible ticket code.
  expect((await fetch(`${service.url}/api/no/such/page`)).status).toBe(404);
  // Lines are written synchronously, but give the pipe a moment to deliver them.
  await new Promise((r) => setTimeout(r, 200));
  return service;
}

it('pretty: one readable line per event, the service named, probes and successes left out at info', async () => {
  const service = await redemption({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
  const lines = plain(service.logs()).split('\n').filter(Boolean);
  expect(
    lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[redemption\] redemption listening/.test(l)),
  ).toBe(true);
  expect(lines.some((l) => l.startsWith('{'))).toBe(false);
  expect(lines.some((l) => /GET \/api\/no\/such\/page 404 \d+ ms/.test(l))).toBe(true);
  expect(lines.filter((l) => /\/(healthz|readyz|metrics)/.test(l))).toEqual([]);
  expect(service.logs()).not.toEqual(plain(service.logs())); // coloured
});

it('JSON otherwise, and LOG_LEVEL=debug shows every request, probes included', async () => {
  const service = await redemption({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' });
  const records = service
    .logs()
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as { level: number; msg: string; req?: { url: string }; res?: { statusCode: number } },
    );
  const requests = records.filter((r) => r.msg === 'request completed');
  const healthz = requests.filter((r) => r.req?.url === '/healthz');
  expect(healthz.length).toBeGreaterThanOrEqual(3);
  for (const r of healthz) expect(r.level).toBe(20); // debug
  const missing = requests.find((r) => r.req?.url === '/api/no/such/page');
  expect(missing).toMatchObject({ level: 30, res: { statusCode: 404 } }); // info
});
