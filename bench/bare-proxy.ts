// The floor of one HTTP hop in Node on this machine: a pass-through proxy with nothing in it (no
// authentication, rate limit, audit, signing, routing or logging), run as its own process by the gateway
// scenario. node:http in front, an undici Pool behind (what the gateway forwards with), the upstream's
// body read whole and relayed, as the gateway does for small bodies. What the gateway costs beyond this
// is its own work; what this costs is the hop itself.
//
// `node --import tsx bench/bare-proxy.ts <upstream origin>`: prints `{"port":N}` once listening; ends on
// SIGTERM.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.ts <upstream origin>');
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 30_000 });

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the client library sets itself.
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']);
const pass = (headers: IncomingHttpHeaders) => {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP.has(name)) out[name] = value;
  }
  return out;
};

const server = createServer(async (req, res) => {
  try {
    const upstreamResponse = await pool.request({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: pass(req.headers),
    });
    const body = Buffer.from(await upstreamResponse.body.arrayBuffer());
    res.writeHead(upstreamResponse.statusCode, pass(upstreamResponse.headers));
    res.end(body);
  } catch {
    res.writeHead(502).end();
  }
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
  server.closeAllConnections();
});
