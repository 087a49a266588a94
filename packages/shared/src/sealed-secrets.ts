// Secrets inside stored idempotent responses. A replayed "create partner" or "create device" must return
// the same key, yet no plain key may rest in the database: the stored copy is sealed (AES-256-GCM) with a
// key derived from a root secret for one purpose, and opened only when the response is sent.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const MARK = 'sealed:v1:';

export interface SecretSealer {
  seal(secret: string): string;
  open(sealed: string): string;
}

/** `purpose` separates the keys derived for different uses of the same root secret. */
export function secretSealer(rootSecret: string, purpose: string): SecretSealer {
  const key = Buffer.from(hkdfSync('sha256', rootSecret, 'cruise-sealed-secrets', purpose, 32));
  return {
    seal(secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return MARK + [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
    },
    open(sealed) {
      if (!sealed.startsWith(MARK)) throw new Error('not a sealed secret');
      const [iv, tag, data] = sealed
        .slice(MARK.length)
        .split('.')
        .map((p) => Buffer.from(p, 'base64url'));
      if (!iv || !tag || !data) throw new Error('malformed sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    },
  };
}
