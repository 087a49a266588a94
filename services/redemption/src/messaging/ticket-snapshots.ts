// Asks issuance for a ticket the projection has not seen yet (the `ticketSnapshot` command).
import { AppError, type CommandClient } from '@cruise/shared';
import type { TicketSource } from '../domain/projection.ts';

export function issuanceTicketSource(commands: CommandClient): TicketSource {
  return async (ticketCode) => {
    const reply = await commands.send('ticketSnapshot', { ticket_code: ticketCode });
    if (reply.ok) return reply.ticket;
    if (reply.code === 'NOT_FOUND' || reply.code === 'VALIDATION_FAILED') return null;
    throw new AppError('SERVICE_UNAVAILABLE', 'The issuance service could not answer; retry shortly');
  };
}
