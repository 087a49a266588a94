// Batches in progress across partners with their progress, refreshed every few seconds.
import { useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { ErrorBox, Section, usePolling } from '../ui.tsx';

const REFRESH_MS = 2000;

type Status = NonNullable<Parameters<Api['batches']>[0]['status']>;

export function BatchesPage(props: { api: Api; partnerName: (id: string | null) => string }) {
  const { api } = props;
  const [status, setStatus] = useState<Status | ''>('IN_PROGRESS');
  const batches = usePolling(
    () => api.batches({ page: 1, page_size: 100, ...(status ? { status } : {}) }),
    REFRESH_MS,
    [status],
  );
  return (
    <Section
      title="Batches"
      actions={
        <button type="button" onClick={batches.reload}>
          Refresh
        </button>
      }
    >
      <div class="field narrow">
        <label for="batch-status">Show</label>
        <select
          id="batch-status"
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value as Status | '')}
        >
          <option value="IN_PROGRESS">In progress (queued or running)</option>
          <option value="">All</option>
          <option value="COMPLETED">Completed</option>
          <option value="FAILED">Failed</option>
        </select>
      </div>
      <ErrorBox error={batches.error} />
      {batches.data && batches.data.data.length === 0 && <p class="hint">No batches.</p>}
      <ul class="batches">
        {batches.data?.data.map((b) => {
          const pct = b.quantity > 0 ? Math.floor((100 * b.generated) / b.quantity) : 0;
          const id = `batch-${b.batch_id}`;
          return (
            <li key={b.batch_id} data-testid="batch-row" data-batch-id={b.batch_id}>
              <div>
                <strong>{props.partnerName(b.partner_id)}</strong> · product {b.product_id}
                {b.batch_reference ? ` · ${b.batch_reference}` : ''}
                {b.reseller ? ` · for ${b.reseller.name}` : ''}{' '}
                <span class={`badge ${b.status === 'FAILED' ? 'bad' : 'ok'}`}>{b.status}</span>
              </div>
              <label for={id}>
                {b.generated.toLocaleString()} of {b.quantity.toLocaleString()} tickets ({pct}%)
              </label>
              <progress id={id} max={b.quantity} value={b.generated} />
              {b.error && <p class="problem">{b.error}</p>}
            </li>
          );
        })}
      </ul>
    </Section>
  );
}
