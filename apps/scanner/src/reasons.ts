// What each answer means, in the words a gate agent reads out to a passenger.
import type { Problem } from './api.ts';

const STATUS_WORDS: Record<string, string> = {
  PRE_GENERATED: 'has not been activated yet',
  CANCELLED: 'was cancelled',
  EXPIRED: 'has expired',
  USED: 'is fully used',
  ACTIVE: 'is active',
};

function time(iso: string | undefined): string {
  if (!iso) return 'earlier';
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? `at ${d.toLocaleTimeString()}` : `on ${d.toLocaleString()}`;
}

export function rejectionHeadline(code: string): string {
  switch (code) {
    case 'ALREADY_REDEEMED':
      return 'Already used';
    case 'QR_EXPIRED':
      return 'QR code expired';
    case 'QR_SUPERSEDED':
      return 'Old QR code';
    case 'TICKET_NOT_ACTIVE':
      return 'Ticket not valid';
    case 'INVALID_QR':
      return 'Not a ticket';
    case 'ENTITLEMENT_NOT_FOUND':
      return 'Not included';
    case 'MANUAL_ENTRY_NOT_ALLOWED':
      return 'Typed codes not allowed';
    case 'UNAUTHORIZED':
      return 'Device not signed in';
    case 'RATE_LIMITED':
      return 'Too many scans';
    default:
      return 'Not accepted';
  }
}

export function rejectionReason(problem: Problem, functionName: string): string {
  switch (problem.code) {
    case 'ALREADY_REDEEMED':
      return `This ticket was already used for ${functionName} ${time(problem.redeemed_at)}.`;
    case 'QR_EXPIRED':
      return 'This QR code has expired. Ask the passenger to open the ticket again to show a fresh code.';
    case 'QR_SUPERSEDED':
      return 'A newer QR code was issued for this ticket. Ask the passenger for the latest code.';
    case 'TICKET_NOT_ACTIVE':
      return `This ticket ${STATUS_WORDS[problem.ticket_status ?? ''] ?? 'is not active'}.`;
    case 'INVALID_QR':
      return 'This code is not a valid ticket of ours (unknown, damaged or forged).';
    case 'ENTITLEMENT_NOT_FOUND':
      return `This ticket does not include ${functionName}.`;
    case 'MANUAL_ENTRY_NOT_ALLOWED':
      return 'This device may not redeem typed ticket codes. Scan the QR code instead.';
    case 'UNAUTHORIZED':
      return 'The device key was refused (revoked?). Sign in again with a valid key.';
    case 'RATE_LIMITED':
      return 'Too many scans from this device in the last minute. Wait a moment and scan again.';
    case 'VALIDATION_FAILED':
      return 'The scan could not be read. Try again.';
    default:
      return problem.detail ?? 'The server refused this scan.';
  }
}
