// Standard Webhooks signing (standardwebhooks.com): `v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>`,
// where the key is the bytes of the base64 after `whsec_`. Several valid secrets → several signatures.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** `whsec_` + standard base64 of 32 random bytes (api.md). */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key of a `whsec_` secret, made once and reused for every request signed with it. */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(
    Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64'),
  );
}

export function sign(secret: string | KeyObject, id: string, timestamp: number, body: string): string {
  const key = typeof secret === 'string' ? signingKey(secret) : secret;
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The `webhook-*` headers of one attempt; `secrets` are the currently valid ones, newest first. */
export function webhookHeaders(
  secrets: (string | KeyObject)[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' '),
  };
}
