// Scanner devices: created by the operator with a key shown once (stored as SHA-256), revoked by the
// operator, and authenticated on every /venue request by this service itself.

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
