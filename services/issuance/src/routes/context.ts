// What the route adapters share besides the context: a domain refusal as the contract's problem answer.
import { type Outcome, refusalError } from '@cruise/shared';

export type { IssuanceContext } from '../context.ts';

/** A domain refusal becomes the contract's problem response (thrown inside a transaction, it rolls back). */
export function orRefuse<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw refusalError(outcome);
  return outcome;
}
