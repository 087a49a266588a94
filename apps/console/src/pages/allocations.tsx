// Allocations of every pool (direct and every partner's ota/reseller) as bars, refreshed every few
// seconds, and an editor per pool; ALLOCATION_CONFLICT (below held + sold, or beyond capacity) is
// shown next to the pool it concerns.
import { useState } from 'preact/hooks';
import { type Api, ApiError, type Channel, type Pool } from '../api.ts';
import { ErrorBox, PoolBar, Section, usePolling } from '../ui.tsx';

const REFRESH_MS = 3000;

function conflictText(err: unknown): string | null {
  if (!(err instanceof ApiError) || err.code !== 'ALLOCATION_CONFLICT') return null;
  return `Allocation conflict: ${err.detail ?? err.title}. An allocation cannot go below the units held and sold, nor beyond the product's capacity across all pools.`;
}

function PoolEditor(props: { api: Api; pool: Pool; onSaved: () => void }) {
  const { pool } = props;
  const [value, setValue] = useState(String(pool.allocated));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const id = `alloc-${pool.partner_id ?? 'direct'}-${pool.product_id}-${pool.channel}`;
  const conflict = conflictText(error);
  return (
    <form
      class="inline"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setSaved(false);
        try {
          await props.api.setAllocation(pool.partner_id, pool.product_id, pool.channel, Number(value));
          setSaved(true);
          props.onSaved();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label for={id}>New allocation</label>
      <input
        id={id}
        type="number"
        min={0}
        required
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">Set</button>
      {saved && <span role="status">Saved</span>}
      {conflict ? (
        <p class="conflict" role="alert" data-testid="allocation-conflict">
          {conflict}
        </p>
      ) : (
        <ErrorBox error={error} />
      )}
    </form>
  );
}

export function AllocationsPage(props: { api: Api; partnerName: (id: string | null) => string }) {
  const { api, partnerName } = props;
  const pools = usePolling(() => api.pools(), REFRESH_MS);
  const catalogue = usePolling(() => api.catalogue(), 0);
  const partners = usePolling(() => api.listPartners(1, 500), 0);
  const productName = (id: number) =>
    catalogue.data?.products.find((p) => p.product_id === id)?.name ?? `Product ${id}`;
  const [newPartner, setNewPartner] = useState('');
  const [newProduct, setNewProduct] = useState('106');
  const [newChannel, setNewChannel] = useState<Channel>('ota');
  const [newAllocated, setNewAllocated] = useState('');
  const [newError, setNewError] = useState<unknown>(null);

  const groups = new Map<string, Pool[]>();
  for (const p of pools.data?.data ?? []) {
    const k = p.partner_id ?? 'direct';
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  return (
    <>
      <Section title="Set a partner's allocation">
        <form
          class="grid-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setNewError(null);
            try {
              await api.setAllocation(newPartner, Number(newProduct), newChannel, Number(newAllocated));
              pools.reload();
            } catch (err) {
              setNewError(err);
            }
          }}
        >
          <div class="field">
            <label for="new-pool-partner">Partner</label>
            <select
              id="new-pool-partner"
              required
              value={newPartner}
              onChange={(e) => setNewPartner(e.currentTarget.value)}
            >
              <option value="">Choose…</option>
              {partners.data?.data.map((p) => (
                <option key={p.partner_id} value={p.partner_id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="new-pool-product">Product</label>
            <select
              id="new-pool-product"
              value={newProduct}
              onChange={(e) => setNewProduct(e.currentTarget.value)}
            >
              {(catalogue.data?.products ?? []).map((p) => (
                <option key={p.product_id} value={p.product_id}>
                  {p.product_id} {p.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="new-pool-channel">Channel</label>
            <select
              id="new-pool-channel"
              value={newChannel}
              onChange={(e) => setNewChannel(e.currentTarget.value as Channel)}
            >
              <option value="ota">ota</option>
              <option value="reseller">reseller</option>
            </select>
          </div>
          <div class="field">
            <label for="new-pool-allocated">Allocated</label>
            <input
              id="new-pool-allocated"
              type="number"
              min={0}
              required
              value={newAllocated}
              onInput={(e) => setNewAllocated(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Set allocation</button>
        </form>
        {conflictText(newError) ? (
          <p class="conflict" role="alert" data-testid="allocation-conflict">
            {conflictText(newError)}
          </p>
        ) : (
          <ErrorBox error={newError} />
        )}
      </Section>
      <Section
        title="Pools"
        actions={
          <button type="button" onClick={pools.reload}>
            Refresh
          </button>
        }
      >
        <p class="hint">
          <span class="legend sold">sold</span> <span class="legend held">held</span>{' '}
          <span class="legend available">available</span> — refreshed every {REFRESH_MS / 1000} s.
        </p>
        <ErrorBox error={pools.error} />
        {[...groups.entries()].map(([owner, list]) => (
          <div key={owner} class="pool-group">
            <h3>{owner === 'direct' ? 'Direct (operator)' : partnerName(owner)}</h3>
            <ul class="pools">
              {list.map((p) => (
                <li
                  key={`${p.product_id}-${p.channel}`}
                  data-testid="pool"
                  data-partner-id={p.partner_id ?? 'direct'}
                  data-product-id={p.product_id}
                  data-channel={p.channel}
                >
                  <h4>
                    {productName(p.product_id)} · {p.channel}
                  </h4>
                  <PoolBar {...p} />
                  <PoolEditor api={api} pool={p} onSaved={pools.reload} />
                </li>
              ))}
            </ul>
          </div>
        ))}
      </Section>
    </>
  );
}
