// Partners: create (key shown once), suspend/resume, rate limit, issue and revoke API keys.
import { useState } from 'preact/hooks';
import type { Api, Partner } from '../api.ts';
import { ErrorBox, SecretOnce, Section, usePolling } from '../ui.tsx';

function PartnerRow(props: { api: Api; partner: Partner; onChanged: () => void }) {
  const { api, partner } = props;
  const [limit, setLimit] = useState(String(partner.rate_limit_per_minute));
  const [error, setError] = useState<unknown>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      props.onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const suspended = partner.status === 'SUSPENDED';
  const limitId = `limit-${partner.partner_id}`;
  return (
    <li class="partner" data-testid="partner-row" data-partner-id={partner.partner_id}>
      <div class="partner-head">
        <h3>{partner.name}</h3>
        <span class={`badge ${suspended ? 'bad' : 'ok'}`}>{partner.status}</span>
        <code class="id">{partner.partner_id}</code>
      </div>
      <div class="row wrap">
        <button
          type="button"
          onClick={() =>
            act(() => api.updatePartner(partner.partner_id, { status: suspended ? 'ACTIVE' : 'SUSPENDED' }))
          }
        >
          {suspended ? 'Resume' : 'Suspend'}
        </button>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => api.updatePartner(partner.partner_id, { rate_limit_per_minute: Number(limit) }));
          }}
        >
          <label for={limitId}>Requests per minute</label>
          <input
            id={limitId}
            type="number"
            min={1}
            max={100000}
            required
            value={limit}
            onInput={(e) => setLimit(e.currentTarget.value)}
          />
          <button type="submit">Save limit</button>
        </form>
        <button
          type="button"
          onClick={() =>
            act(async () => {
              const key = await api.issueKey(partner.partner_id);
              setNewKey(key.api_key);
            })
          }
        >
          Issue API key
        </button>
      </div>
      {newKey && (
        <SecretOnce label={`New API key for ${partner.name}`} value={newKey} onDone={() => setNewKey(null)} />
      )}
      <ErrorBox error={error} />
      <details>
        <summary>API keys ({partner.api_keys.filter((k) => !k.revoked_at).length} active)</summary>
        <ul class="keys">
          {partner.api_keys.map((k) => (
            <li key={k.key_id}>
              <code>{k.prefix}…</code> created {new Date(k.created_at).toLocaleString()}{' '}
              {k.revoked_at ? (
                <span class="badge bad">revoked {new Date(k.revoked_at).toLocaleString()}</span>
              ) : (
                <button
                  type="button"
                  onClick={() => {
                    if (confirm(`Revoke key ${k.prefix}…? It stops working within a second.`)) {
                      void act(() => api.revokeKey(partner.partner_id, k.key_id));
                    }
                  }}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      </details>
    </li>
  );
}

export function PartnersPage(props: { api: Api }) {
  const { api } = props;
  const partners = usePolling(() => api.listPartners(), 0);
  const [name, setName] = useState('');
  const [limit, setLimit] = useState('');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <Section title="New partner">
        <form
          class="grid-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const p = await api.createPartner(name.trim(), limit ? Number(limit) : undefined);
              setCreated({ name: p.name, key: p.api_key });
              setName('');
              setLimit('');
              partners.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <div class="field">
            <label for="partner-name">Name</label>
            <input
              id="partner-name"
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="partner-limit">Requests per minute (optional)</label>
            <input
              id="partner-limit"
              type="number"
              min={1}
              max={100000}
              value={limit}
              onInput={(e) => setLimit(e.currentTarget.value)}
            />
          </div>
          <button type="submit">Create partner</button>
        </form>
        {created && (
          <SecretOnce
            label={`API key of ${created.name}`}
            value={created.key}
            testid="created-partner-key"
            onDone={() => setCreated(null)}
          />
        )}
        <ErrorBox error={error} />
      </Section>
      <Section
        title={`Partners${partners.data ? ` (${partners.data.total})` : ''}`}
        actions={
          <button type="button" onClick={partners.reload}>
            Refresh
          </button>
        }
      >
        <ErrorBox error={partners.error} />
        <ul class="partners">
          {partners.data?.data.map((p) => (
            <PartnerRow key={p.partner_id} api={api} partner={p} onChanged={partners.reload} />
          ))}
        </ul>
      </Section>
    </>
  );
}
