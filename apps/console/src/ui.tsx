// Pieces every console page uses: problem display, a secret shown once, pool bars, polling.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export function ErrorBox(props: { error: unknown; what?: string }) {
  if (!props.error) return null;
  const err = props.error;
  const code = err instanceof ApiError ? err.code : 'ERROR';
  const detail =
    err instanceof ApiError ? (err.detail ?? err.title) : err instanceof Error ? err.message : String(err);
  return (
    <div class="problem" role="alert" data-testid="problem" data-code={code}>
      <strong>
        {props.what ? `${props.what}: ` : ''}
        {code}
      </strong>
      <span>{detail}</span>
      {err instanceof ApiError && err.errors.length > 0 && (
        <ul>
          {err.errors.map((e) => (
            <li key={e.path}>
              {e.path}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A key the server shows once: displayed with a copy button until the operator dismisses it. */
export function SecretOnce(props: { label: string; value: string; onDone: () => void; testid?: string }) {
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  return (
    <div class="secret" role="status">
      <p>
        <strong>{props.label}</strong> — shown once: copy it now, it cannot be shown again.
      </p>
      <div class="row">
        <input ref={ref} readOnly value={props.value} aria-label={props.label} data-testid={props.testid} />
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(props.value);
            } catch {
              // Without clipboard access (plain http), select it for the operator to copy.
              ref.current?.select();
              document.execCommand?.('copy');
            }
            setCopied(true);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" onClick={props.onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

/** held | sold | available as one bar scaled to `allocated`, with the numbers beside it for screen readers. */
export function PoolBar(props: { allocated: number; held: number; sold: number; available: number }) {
  const { allocated, held, sold, available } = props;
  const pct = (n: number) => (allocated > 0 ? `${(100 * n) / allocated}%` : '0%');
  return (
    <div class="poolbar">
      <div class="bar" aria-hidden="true">
        <span class="sold" style={{ width: pct(sold) }} />
        <span class="held" style={{ width: pct(held) }} />
        <span class="available" style={{ width: pct(available) }} />
      </div>
      <dl class="counts">
        <div>
          <dt>Allocated</dt>
          <dd data-field="allocated">{allocated}</dd>
        </div>
        <div>
          <dt class="held">Held</dt>
          <dd data-field="held">{held}</dd>
        </div>
        <div>
          <dt class="sold">Sold</dt>
          <dd data-field="sold">{sold}</dd>
        </div>
        <div>
          <dt class="available">Available</dt>
          <dd data-field="available">{available}</dd>
        </div>
      </dl>
    </div>
  );
}

/**
 * Loads now, then every `everyMs` while the page is open; `reload` forces one. The data belongs to the
 * query (`deps`) it was loaded for: when the query changes, `data` is null (and `loading` true) in that
 * very render, so a page never shows the previous filter's rows as if they were the new one's.
 */
export function usePolling<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []) {
  const key = JSON.stringify(deps);
  const [loaded, setLoaded] = useState<{ key: string; data: T } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let alive = true;
    const run = () =>
      loadRef
        .current()
        .then((data) => {
          if (!alive) return;
          setLoaded({ key, data });
          setError(null);
        })
        .catch((e) => alive && setError(e));
    void run();
    const t = everyMs > 0 ? setInterval(run, everyMs) : undefined;
    return () => {
      alive = false;
      if (t) clearInterval(t);
    };
  }, [everyMs, tick, key]);
  const current = loaded?.key === key ? loaded.data : null;
  return {
    data: current,
    loading: current === null && error === null,
    error,
    reload: () => setTick((n) => n + 1),
    setData: (data: T) => setLoaded({ key, data }),
  };
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={props.title}>
      <div class="card-head">
        <h2>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
