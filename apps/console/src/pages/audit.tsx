// The audit log with filters (partner, period) and paging. Pages follow `next_cursor`: the log grows
// while it is read, and a cursor page stays where it is (a page number would slide as rows arrive).
import { useState } from 'preact/hooks';
import type { Api, Partner } from '../api.ts';
import { ErrorBox, Section, usePolling } from '../ui.tsx';

export function AuditPage(props: {
  api: Api;
  partners: Partner[];
  partnerName: (id: string | null) => string;
}) {
  const { api } = props;
  const [filters, setFilters] = useState({ partner_id: '', from: '', to: '' });
  const [draft, setDraft] = useState(filters);
  // The cursors of the pages after the first one, in the order they were visited.
  const [trail, setTrail] = useState<string[]>([]);
  const cursor = trail.at(-1);
  const pageSize = 25;
  const entries = usePolling(
    () =>
      api.audit({
        ...(cursor ? { cursor } : {}),
        page_size: pageSize,
        ...(filters.partner_id ? { partner_id: filters.partner_id } : {}),
        ...(filters.from ? { from: filters.from } : {}),
        ...(filters.to ? { to: filters.to } : {}),
      }),
    0,
    [cursor, filters],
  );
  const data = entries.data;
  return (
    <Section
      title="Audit log"
      actions={
        <button type="button" onClick={entries.reload}>
          Refresh
        </button>
      }
    >
      <form
        class="grid-form"
        onSubmit={(e) => {
          e.preventDefault();
          setTrail([]);
          setFilters(draft);
        }}
      >
        <div class="field">
          <label for="audit-partner">Partner</label>
          <select
            id="audit-partner"
            value={draft.partner_id}
            onChange={(e) => setDraft({ ...draft, partner_id: e.currentTarget.value })}
          >
            <option value="">All callers</option>
            {props.partners.map((p) => (
              <option key={p.partner_id} value={p.partner_id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="audit-from">From (inclusive)</label>
          <input
            id="audit-from"
            type="date"
            value={draft.from}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="audit-to">To (exclusive)</label>
          <input
            id="audit-to"
            type="date"
            value={draft.to}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </div>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBox error={entries.error} />
      <div class="table-wrap">
        <table aria-busy={entries.loading}>
          <caption class="sr-only">Audit entries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Caller</th>
              <th scope="col">Request</th>
              <th scope="col">Status</th>
              <th scope="col">ms</th>
            </tr>
          </thead>
          <tbody>
            {data?.data.map((a) => (
              <tr key={a.id} data-testid="audit-row">
                <td>{new Date(a.at).toLocaleString()}</td>
                <td>
                  {a.actor_kind}
                  {a.partner_id ? ` · ${props.partnerName(a.partner_id)}` : ''}
                </td>
                <td>
                  <code>
                    {a.method} {a.path}
                  </code>
                </td>
                <td class={a.status >= 400 ? 'status-bad' : ''}>{a.status}</td>
                <td>{a.duration_ms.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Audit pages">
        <button type="button" disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
          Previous
        </button>
        <span>
          Page {trail.length + 1}
          {data ? ` of ${Math.max(1, Math.ceil(data.total / pageSize))} (${data.total} entries)` : ''}
        </span>
        <button
          type="button"
          disabled={!data?.next_cursor}
          onClick={() => data?.next_cursor && setTrail([...trail, data.next_cursor])}
        >
          Next
        </button>
      </nav>
    </Section>
  );
}
