import { pgSchema } from 'drizzle-orm/pg-core';

/** What the OCTO adapter keeps of its own (the OCTO side of a booking); no other service writes it. */
export const octoSchema = pgSchema('octo');
