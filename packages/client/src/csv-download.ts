// A batch's ticket codes as a byte stream (`GET /api/ota/batches/{id}/tickets.csv`), never held whole
// in memory, with a pass-through counter of data rows for progress.
import { ApiError } from './api-error.ts';
import type { CruiseClient } from './client.ts';

export async function downloadBatchCsv(
  client: CruiseClient,
  batchId: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ body: ReadableStream<Uint8Array>; response: Response }> {
  const { data, error, response } = await client.GET('/api/ota/batches/{batch_id}/tickets.csv', {
    params: { path: { batch_id: batchId } },
    parseAs: 'stream',
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!response.ok || !data) throw new ApiError(response.status, error, response.headers);
  return { body: data as ReadableStream<Uint8Array>, response };
}

/** Passes bytes through unchanged and reports the data rows seen so far (lines after the header). */
export function csvRowCounter(onRows: (rows: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let lines = 0;
  return new TransformStream({
    transform(chunk, controller) {
      for (const byte of chunk) if (byte === 10) lines++;
      onRows(Math.max(0, lines - 1));
      controller.enqueue(chunk);
    },
  });
}
