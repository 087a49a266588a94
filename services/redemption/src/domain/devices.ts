// Scanner devices: created by the operator with a key shown once (stored as SHA-256), revoked by the
// operator, and authenticated on every /venue request by this service itself.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { type CreatedDevice, newId, newSecret, type Pool, type PoolClient, sha256Hex } from '@cruise/shared';
import type { ScanningDevice } from './redeem.ts';

export async function createDevice(
  client: PoolClient,
  input: { venue: string; name: string },
): Promise<CreatedDevice> {
  const deviceId = newId();
  const deviceKey = newSecret('dev');
  const { rows } = await client.query<{ created_at: Date }>(
    `INSERT INTO redemption.devices (device_id, venue, name, key_hash) VALUES ($1, $2, $3, $4)
     RETURNING created_at`,
    [deviceId, input.venue, input.name, sha256Hex(deviceKey)],
  );
  return {
    device_id: deviceId,
    device_key: deviceKey,
    venue: input.venue,
    name: input.name,
    created_at: rows[0]!.created_at.toISOString(),
  };
}

/** Revokes a device (keeping the first revocation time); false when no such device exists. */
export async function revokeDevice(pool: Pool, deviceId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE redemption.devices SET revoked_at = COALESCE(revoked_at, now()) WHERE device_id = $1',
    [deviceId],
  );
  return (rowCount ?? 0) > 0;
}

/** The device a key belongs to, or null for an unknown or revoked key. Looked up on every request. */
export async function authenticateDevice(pool: Pool, deviceKey: string): Promise<ScanningDevice | null> {
  const { rows } = await pool.query<ScanningDevice>(
    `SELECT device_id AS "deviceId", venue FROM redemption.devices
      WHERE key_hash = $1 AND revoked_at IS NULL`,
    [sha256Hex(deviceKey)],
  );
  return rows[0] ?? null;
}

/**
 * A replayed "create device" must return the same key, yet no plain key may rest in the database: the
 * copy kept with the Idempotency-Key record is sealed (AES-256-GCM, key derived from the operator
 * token) and opened only when the response is sent.
 */
export function deviceKeySealer(rootSecret: string) {
  const key = Buffer.from(hkdfSync('sha256', rootSecret, 'cruise-redemption', 'idempotent-device-keys', 32));
  return {
    seal(device: CreatedDevice): CreatedDevice {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(device.device_key, 'utf8'), cipher.final()]);
      const sealed = [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
      return { ...device, device_key: `sealed:v1:${sealed}` };
    },
    open(device: CreatedDevice): CreatedDevice {
      const [iv, tag, data] = device.device_key
        .slice('sealed:v1:'.length)
        .split('.')
        .map((p) => Buffer.from(p, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!);
      decipher.setAuthTag(tag!);
      const plain = Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
      return { ...device, device_key: plain };
    },
  };
}
