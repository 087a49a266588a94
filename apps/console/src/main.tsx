// The operator console (api.md, "Apps"). The admin token is held in sessionStorage (gone when the
// tab closes) and sent only as a Bearer header, never in a URL. Pages are chosen by the URL hash.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createApi } from './api.ts';
import { AllocationsPage } from './pages/allocations.tsx';
import { AuditPage } from './pages/audit.tsx';
import { BatchesPage } from './pages/batches.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { PartnersPage } from './pages/partners.tsx';
import { ReportsPage } from './pages/reports.tsx';
import { usePolling } from './ui.tsx';
import './styles.css';

const TOKEN_STORAGE = 'cruise.console.admin-token';

const PAGES = [
  ['partners', 'Partners'],
  ['allocations', 'Allocations'],
  ['devices', 'Devices'],
  ['audit', 'Audit log'],
  ['reports', 'Reports'],
  ['batches', 'Batches'],
] as const;
type PageId = (typeof PAGES)[number][0];

function currentPage(): PageId {
  const id = location.hash.replace(/^#\/?/, '');
  return (PAGES.find(([p]) => p === id)?.[0] ?? 'partners') as PageId;
}

function SignIn(props: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <main class="signin">
      <h1>Operator console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            await createApi(token.trim()).listPartners(1, 1);
            props.onSignedIn(token.trim());
          } catch (err) {
            setError(
              err instanceof ApiError && err.status === 401
                ? 'That token was refused.'
                : `Sign-in failed: ${(err as Error).message}`,
            );
          }
        }}
      >
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p class="hint">Kept in this tab only (session storage); closing the tab signs you out.</p>
        <button type="submit">Sign in</button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Console(props: { token: string; onSignOut: () => void }) {
  const api = useMemo(() => createApi(props.token), [props.token]);
  const [page, setPage] = useState<PageId>(currentPage);
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const partners = usePolling(() => api.listPartners(1, 500), 15_000, [page]);
  useEffect(() => {
    if (partners.error instanceof ApiError && partners.error.status === 401) props.onSignOut();
  }, [partners.error]);
  const list = partners.data?.data ?? [];
  const partnerName = (id: string | null) =>
    id === null ? 'Direct' : (list.find((p) => p.partner_id === id)?.name ?? id.slice(0, 8));
  return (
    <div class="console">
      <header>
        <span class="brand">Cruise operator console</span>
        <nav aria-label="Sections">
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={page === id ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <h1 class="sr-only">{PAGES.find(([id]) => id === page)?.[1]}</h1>
        {page === 'partners' && <PartnersPage api={api} />}
        {page === 'allocations' && <AllocationsPage api={api} partnerName={partnerName} />}
        {page === 'devices' && <DevicesPage api={api} />}
        {page === 'audit' && <AuditPage api={api} partners={list} partnerName={partnerName} />}
        {page === 'reports' && <ReportsPage api={api} partners={list} />}
        {page === 'batches' && <BatchesPage api={api} partnerName={partnerName} />}
      </main>
    </div>
  );
}

function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_STORAGE));
  if (!token) {
    return (
      <SignIn
        onSignedIn={(t) => {
          sessionStorage.setItem(TOKEN_STORAGE, t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <Console
      token={token}
      onSignOut={() => {
        sessionStorage.removeItem(TOKEN_STORAGE);
        setToken(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
