// At-most-once execution of NATS commands by the caller's reference. The claim is a row in
// `command_log` (primary key (command, ref)) inserted in the command's own transaction: a concurrent
// duplicate blocks on that key until the first commits, then reads its stored reply.
import {
  type Outcome,
  type Pool,
  type PoolClient,
  type Refusal,
  refuse,
  sha256Hex,
  stableJson,
  withTransaction,
} from '@cruise/shared';
import { table } from '../db/tables.ts';

class RefusedCommand extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.detail);
    this.refusal = refusal;
  }
}

/**
 * Runs `work` once per (command, ref). Success is stored and replayed to every later duplicate; a
 * refusal rolls the claim back, so a retry is evaluated afresh. The same ref with a different request
 * is refused with IDEMPOTENCY_KEY_REUSED.
 */
export async function runOnce<T extends object>(
  pool: Pool,
  command: string,
  ref: string,
  request: unknown,
  work: (client: PoolClient) => Promise<Outcome<T>>,
): Promise<Outcome<T>> {
  const hash = sha256Hex(stableJson(request));
  try {
    return await withTransaction(pool, async (client) => {
      const claim = await client.query(
        `INSERT INTO ${table.command_log} (command, ref, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [command, ref, hash],
      );
      if (claim.rowCount === 0) {
        const { rows } = await client.query<{ request_hash: string; reply: Outcome<T> }>(
          `SELECT request_hash, reply FROM ${table.command_log} WHERE command = $1 AND ref = $2`,
          [command, ref],
        );
        const done = rows[0]!;
        if (done.request_hash !== hash) {
          return refuse(
            'IDEMPOTENCY_KEY_REUSED',
            `${command} ${ref} was already done with a different request`,
          );
        }
        return done.reply;
      }
      const outcome = await work(client);
      if (!outcome.ok) throw new RefusedCommand(outcome);
      await client.query(`UPDATE ${table.command_log} SET reply = $3 WHERE command = $1 AND ref = $2`, [
        command,
        ref,
        JSON.stringify(outcome),
      ]);
      return outcome;
    });
  } catch (err) {
    if (err instanceof RefusedCommand) return err.refusal;
    throw err;
  }
}
