// Walks a list by its `next_cursor` from the first page to the last, checking the envelope on the way:
// every list's test uses it to show the walk sees the same rows, in the same order, as one big page.

export interface ListEnvelope<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * `get(query)` answers one page for a query string (`page_size=2`, then `page_size=2&cursor=…`);
 * returns every item of the walk in order and the number of pages. Throws if a page says `has_more`
 * without a cursor (or the reverse), or if the walk does not end.
 */
export async function walkByCursor<T>(
  firstQuery: string,
  get: (query: string) => Promise<ListEnvelope<T>>,
  maxPages = 1_000,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let query = firstQuery;
  for (let pages = 1; pages <= maxPages; pages++) {
    const page = await get(query);
    items.push(...page.data);
    if (page.has_more !== (page.next_cursor !== null)) {
      throw new Error(`has_more ${page.has_more} but next_cursor ${page.next_cursor} on page ${pages}`);
    }
    if (page.next_cursor === null) return { items, pages };
    query = `${firstQuery}${firstQuery ? '&' : ''}cursor=${encodeURIComponent(page.next_cursor)}`;
  }
  throw new Error(`the walk did not end within ${maxPages} pages`);
}
