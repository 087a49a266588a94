// @cruise/client/node: what needs Node's file system.

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { CruiseClient } from './client.ts';
import { csvRowCounter, downloadBatchCsv } from './csv-download.ts';

/**
 * Streams a batch's CSV into `file` and returns the number of data rows. The bytes go to `file.partial`
 * first and are renamed at the end, so an interrupted download never leaves a complete-looking file.
 */
export async function saveBatchCsv(
  client: CruiseClient,
  batchId: string,
  file: string,
  opts: { onRows?: (rows: number) => void; signal?: AbortSignal } = {},
): Promise<{ rows: number }> {
  const { body } = await downloadBatchCsv(client, batchId, opts.signal ? { signal: opts.signal } : {});
  let rows = 0;
  const counted = body.pipeThrough(
    csvRowCounter((n) => {
      rows = n;
      opts.onRows?.(n);
    }),
  );
  const partial = `${file}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(counted as NodeReadableStream<Uint8Array>),
      createWriteStream(partial, { mode: 0o644 }),
    );
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { rows };
}
