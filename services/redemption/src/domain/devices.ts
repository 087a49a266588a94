// Scanner devices: created by the operator with a key shown once (stored as SHA-256), revoked by the
// operator, and authenticated on every /venue request by this service itself.

import {
  type CreatedDevice,
  type CurrentDevice,
  type Device,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  newId,
  newSecret,
  type Outcome,
  type Pool,
  type PoolClient,
  type SqlRow,
  sha256Hex,
} from '@cruise/shared';
import type { devices } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import type { ScanningDevice } from './redeem.ts';

export async function createDevice(
  client: PoolClient,
  input: { venue: string; name: string; manual_entry: boolean },
): Promise<CreatedDevice> {
  const deviceId = newId();
  const deviceKey = newSecret('dev');
  const { rows } = await client.query<{ created_at: Date }>(
    `INSERT INTO ${table.devices} (device_id, venue, name, key_hash, manual_entry) VALUES ($1, $2, $3, $4, $5)
     RETURNING created_at`,
    [deviceId, input.venue, input.name, sha256Hex(deviceKey), input.manual_entry],
  );
  return {
    device_id: deviceId,
    device_key: deviceKey,
    venue: input.venue,
    name: input.name,
    manual_entry: input.manual_entry,
    created_at: rows[0]!.created_at.toISOString(),
  };
}

const DEVICE_COLUMNS = 'device_id, venue, name, manual_entry, created_at, revoked_at';
type DeviceRow = Pick<
  SqlRow<typeof devices>,
  'device_id' | 'venue' | 'name' | 'manual_entry' | 'created_at' | 'revoked_at'
>;
const toDevice = (r: DeviceRow): Device => ({
  ...r,
  created_at: r.created_at.toISOString(),
  revoked_at: r.revoked_at?.toISOString() ?? null,
});

/** Devices newest first, revoked ones included; the key hash never leaves this service. */
export const DEVICES_NEWEST_FIRST = new Keyset('devices', [
  { sql: 'd.created_at', type: 'timestamptz' },
  { sql: 'd.device_id', type: 'uuid' },
]);

export async function listDevices(
  pool: Pool,
  q: ListQuery,
): Promise<Outcome<{ page: ListPage<Device> }, 'VALIDATION_FAILED'>> {
  return DEVICES_NEWEST_FIRST.list(
    pool,
    q,
    { from: table.devices, alias: 'd', where: 'true', select: DEVICE_COLUMNS },
    [],
    (r: DeviceRow & KeyedRow) =>
      toDevice({
        device_id: r.device_id,
        venue: r.venue,
        name: r.name,
        manual_entry: r.manual_entry,
        created_at: r.created_at,
        revoked_at: r.revoked_at,
      }),
  );
}

/** Turns manual entry on or off; null when no such device exists. */
export async function setManualEntry(
  pool: Pool,
  deviceId: string,
  manualEntry: boolean,
): Promise<Device | null> {
  const { rows } = await pool.query<DeviceRow>(
    `UPDATE ${table.devices} SET manual_entry = $2 WHERE device_id = $1 RETURNING ${DEVICE_COLUMNS}`,
    [deviceId, manualEntry],
  );
  return rows[0] ? toDevice(rows[0]) : null;
}

/** Revokes a device (keeping the first revocation time); false when no such device exists. */
export async function revokeDevice(pool: Pool, deviceId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE ${table.devices} SET revoked_at = COALESCE(revoked_at, now()) WHERE device_id = $1`,
    [deviceId],
  );
  return (rowCount ?? 0) > 0;
}

/** The device a key belongs to, or null for an unknown or revoked key. */
export async function authenticateDevice(pool: Pool, deviceKey: string): Promise<ScanningDevice | null> {
  return deviceOfKeyHash(pool, sha256Hex(deviceKey));
}

async function deviceOfKeyHash(pool: Pool, keyHash: string): Promise<ScanningDevice | null> {
  const { rows } = await pool.query<ScanningDevice>(
    `SELECT device_id AS "deviceId" FROM ${table.devices} WHERE key_hash = $1 AND revoked_at IS NULL`,
    [keyHash],
  );
  return rows[0] ?? null;
}

/**
 * Device keys seen valid, by their hash → the device id, so a scanner's every request does not cost a
 * lookup of its key. A key belongs to one device for good, so an entry never goes stale; whether the
 * device may still scan is not cached: redeem_scan (and GET /venue/device) read the device row itself on
 * every request, and a revocation takes effect there at once (the caller then `forget`s the key, and
 * its next request is refused here). Unknown keys are never cached. Bounded: the oldest entry leaves first.
 */
export class DeviceKeys {
  private readonly ids = new Map<string, string>();
  private readonly pool: Pool;
  private readonly max: number;

  constructor(pool: Pool, max = 10_000) {
    this.pool = pool;
    this.max = max;
  }

  async authenticate(deviceKey: string): Promise<ScanningDevice | null> {
    const hash = sha256Hex(deviceKey);
    const known = this.ids.get(hash);
    if (known !== undefined) return { deviceId: known };
    const device = await deviceOfKeyHash(this.pool, hash);
    if (device) {
      if (this.ids.size >= this.max) this.ids.delete(this.ids.keys().next().value!);
      this.ids.set(hash, device.deviceId);
    }
    return device;
  }

  /** A key whose device turned out revoked: looked up again next time (and refused). */
  forget(deviceKey: string): void {
    this.ids.delete(sha256Hex(deviceKey));
  }
}

/** What a device may know of itself (the scanner app shows it after sign-in); null once revoked. */
export async function describeDevice(pool: Pool, deviceId: string): Promise<CurrentDevice | null> {
  const { rows } = await pool.query<CurrentDevice>(
    `SELECT device_id, venue, name, manual_entry FROM ${table.devices} WHERE device_id = $1 AND revoked_at IS NULL`,
    [deviceId],
  );
  return rows[0] ?? null;
}
