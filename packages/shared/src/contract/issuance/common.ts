// What the issuance contract's subdomains share: the status enums and a few field shapes.
import { z } from 'zod';

export const batchStatus = z.enum(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED']);
export const resellerStatus = z.enum(['ACTIVE', 'INACTIVE']);

export const email = z.string().trim().max(320).email();
export const shortText = (max: number) => z.string().trim().min(1).max(max);

/** The errors every partner route can answer. */
export const partnerErrors = ['VALIDATION_FAILED', 'UNAUTHORIZED'] as const;
