// At-most-once execution of NATS commands by the caller's reference: the shared recorded replies
// (`recordedReply`), scope `command:<name>`, key the reference, kept for good (a release retried days
// later must still not release twice). A concurrent duplicate waits on the claim, then replays.
import {
  type Outcome,
  type Pool,
  type PoolClient,
  type Refusal,
  recordedReply,
  replayStore,
  withTransaction,
} from '@cruise/shared';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';

const commandReplies = replayStore(idempotencyKeys, { keepHours: null });

class RefusedCommand extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.detail);
    this.refusal = refusal;
  }
}

/**
 * Runs `work` once per (command, ref). Success is stored and replayed to every later duplicate; a
 * refusal rolls the work and the claim back, so a retry is evaluated afresh. The same ref with a
 * different request is refused with IDEMPOTENCY_KEY_REUSED.
 */
export async function runOnce<T extends object>(
  pool: Pool,
  command: string,
  ref: string,
  request: unknown,
  work: (client: PoolClient) => Promise<Outcome<T>>,
): Promise<Outcome<T>> {
  try {
    return await withTransaction(pool, async (client) => {
      const reply = await recordedReply<Outcome<T>>(
        client,
        commandReplies,
        {
          scope: `command:${command}`,
          key: ref,
          request,
          reusedDetail: `${command} ${ref} was already done with a different request`,
        },
        async () => {
          const outcome = await work(client);
          // Thrown, not returned: the work's own writes roll back with the claim.
          if (!outcome.ok) throw new RefusedCommand(outcome);
          return { status: 200, body: outcome };
        },
      );
      return reply.ok ? reply.body : reply;
    });
  } catch (err) {
    if (err instanceof RefusedCommand) return err.refusal;
    throw err;
  }
}
