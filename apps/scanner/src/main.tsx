// The gate scanner (api.md, "Apps"): sign in with a device key, pick the entitlement, scan or type a
// ticket code, and read the answer full screen. Scans go through the IndexedDB queue (queue.ts), so
// one made offline is sent, with its nonce, when the network is back.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  type Accepted,
  ApiError,
  api,
  type Catalogue,
  type Device,
  NetworkError,
  type Problem,
  problemOf,
} from './api.ts';
import { type CameraScanner, type DecodeStats, startCamera } from './camera.ts';
import { signal, unlockAudio } from './feedback.ts';
import { enqueue, flush, newNonce, type PendingScan, pendingScans, type SendOutcome } from './queue.ts';
import { rejectionHeadline, rejectionReason } from './reasons.ts';
import './styles.css';

const KEY_STORAGE = 'cruise.scanner.device-key';
const DEVICE_STORAGE = 'cruise.scanner.device';
const FUNCTION_STORAGE = 'cruise.scanner.function-code';
const SESSION_STORAGE = 'cruise.scanner.session-code';
/** A code that stays in front of the camera is one scan; it counts again after this long out of view. */
const SAME_CODE_QUIET_MS = 3000;
/** An accepted answer clears itself; a rejection stays until the agent dismisses it. */
const ACCEPTED_OVERLAY_MS = 2500;
/** While scans wait, the queue is retried this often even if the browser never says it is online. */
const RETRY_MS = 5000;

type Answer =
  | { kind: 'accepted'; body: Accepted; nonce: string; queued: boolean }
  | { kind: 'rejected'; problem: Problem; functionCode: string; nonce: string; queued: boolean };

interface FunctionChoice {
  code: string;
  name: string;
}

function functionChoices(catalogue: Catalogue | null): FunctionChoice[] {
  const seen = new Map<string, FunctionChoice>();
  for (const product of catalogue?.products ?? []) {
    for (const f of product.functions) {
      if (!seen.has(f.function_code)) seen.set(f.function_code, { code: f.function_code, name: f.name });
    }
  }
  return [...seen.values()];
}

function SignIn(props: { onSignedIn: (key: string, device: Device) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <h1>Gate scanner</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          unlockAudio();
          setBusy(true);
          setError(null);
          try {
            const device = await api.device(key.trim());
            props.onSignedIn(key.trim(), device);
          } catch (err) {
            setError(
              err instanceof ApiError && err.status === 401
                ? 'This device key is unknown or revoked.'
                : err instanceof NetworkError
                  ? 'No network: the key cannot be checked now. Try again when online.'
                  : `Sign-in failed: ${(err as Error).message}`,
            );
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="device-key">Device key</label>
        <input
          id="device-key"
          name="device-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p class="hint">The operator gives each scanner its key once; it stays on this device.</p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function ResultPanel(props: {
  answer: Answer;
  open: boolean;
  functionName: (code: string) => string;
  onDismiss: () => void;
}) {
  const { answer, open } = props;
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open, answer]);
  const accepted = answer.kind === 'accepted';
  const code = accepted ? 'ACCEPTED' : answer.problem.code;
  const remaining = accepted ? answer.body.remaining : (answer.problem.remaining ?? null);
  return (
    <div
      ref={ref}
      data-testid="scan-result"
      data-result={code}
      class={`result ${accepted ? 'ok' : 'bad'} ${open ? 'open' : 'compact'}`}
      role="alert"
      tabIndex={-1}
      onClick={props.onDismiss}
      onKeyDown={(e) => {
        if (e.key === 'Escape' || e.key === 'Enter' || e.key === ' ') props.onDismiss();
      }}
    >
      <p class="headline">{accepted ? 'ACCEPTED' : rejectionHeadline(code)}</p>
      {accepted ? (
        <p class="reason">
          {props.functionName(answer.body.function_code)} · ticket {answer.body.ticket_code}
        </p>
      ) : (
        <p class="reason">{rejectionReason(answer.problem, props.functionName(answer.functionCode))}</p>
      )}
      {remaining && (
        <p class="remaining">
          {remaining.length === 0
            ? 'No entitlements left on this ticket.'
            : `Still to use: ${remaining.map(props.functionName).join(', ')}`}
        </p>
      )}
      {answer.queued && <p class="note">Scanned offline, answered when the network came back.</p>}
      {open && <p class="dismiss">Tap or press Enter for the next scan</p>}
    </div>
  );
}

function Scanner(props: { deviceKey: string; device: Device; onSignOut: () => void }) {
  const { deviceKey, device } = props;
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [catalogueError, setCatalogueError] = useState<string | null>(null);
  const [functionCode, setFunctionCode] = useState(() => localStorage.getItem(FUNCTION_STORAGE) ?? '');
  const [sessionCode, setSessionCode] = useState(() => localStorage.getItem(SESSION_STORAGE) ?? '');
  const [ticketCode, setTicketCode] = useState('');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [overlayOpen, setOverlayOpen] = useState(false);
  const [waiting, setWaiting] = useState<PendingScan[]>([]);
  const [queuedNotice, setQueuedNotice] = useState<string | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  const [cameraOn, setCameraOn] = useState(false);
  const [cameraError, setCameraError] = useState<string | null>(null);
  const [stats, setStats] = useState<DecodeStats | null>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const cameraRef = useRef<CameraScanner | null>(null);
  const lastCode = useRef<{ payload: string; seenAt: number } | null>(null);
  const overlayOpenRef = useRef(false);
  overlayOpenRef.current = overlayOpen;

  const choices = useMemo(() => functionChoices(catalogue), [catalogue]);
  const functionName = useCallback(
    (code: string) => choices.find((c) => c.code === code)?.name ?? code,
    [choices],
  );

  useEffect(() => {
    api
      .catalogue()
      .then((c) => {
        setCatalogue(c);
        localStorage.setItem('cruise.scanner.catalogue', JSON.stringify(c));
      })
      .catch(() => {
        const cached = localStorage.getItem('cruise.scanner.catalogue');
        if (cached) setCatalogue(JSON.parse(cached) as Catalogue);
        else setCatalogueError('The list of entitlements could not be loaded; check the network.');
      });
  }, []);

  useEffect(() => {
    if (!functionCode && choices[0]) setFunctionCode(choices[0].code);
  }, [choices, functionCode]);
  useEffect(() => localStorage.setItem(FUNCTION_STORAGE, functionCode), [functionCode]);
  useEffect(() => localStorage.setItem(SESSION_STORAGE, sessionCode), [sessionCode]);

  const refreshQueue = useCallback(async () => setWaiting(await pendingScans()), []);

  const show = useCallback((next: Answer) => {
    setAnswer(next);
    setOverlayOpen(true);
    setQueuedNotice(null);
    signal(next.kind === 'accepted');
  }, []);

  const send = useCallback(
    async (scan: PendingScan): Promise<SendOutcome> => {
      const queued = Date.now() - Date.parse(scan.queued_at) > RETRY_MS / 2;
      try {
        const body = await api.redeem(deviceKey, scan.request);
        show({ kind: 'accepted', body, nonce: scan.nonce, queued });
        return 'answered';
      } catch (err) {
        // 5xx (SERVICE_UNAVAILABLE) and 429 are "try again later"; the nonce makes the retry safe.
        if (
          err instanceof NetworkError ||
          (err instanceof ApiError && (err.status >= 500 || err.status === 429))
        ) {
          return 'retry';
        }
        if (err instanceof ApiError) {
          show({
            kind: 'rejected',
            problem: problemOf(err),
            functionCode: scan.request.function_code,
            nonce: scan.nonce,
            queued,
          });
          return 'answered';
        }
        return 'retry';
      }
    },
    [deviceKey, show],
  );

  const flushQueue = useCallback(async () => {
    await flush(send);
    await refreshQueue();
  }, [send, refreshQueue]);

  const submit = useCallback(
    async (what: { qr_token: string } | { ticket_code: string }) => {
      if (!functionCode) {
        setQueuedNotice('Pick the entitlement first.');
        return;
      }
      const nonce = newNonce();
      await enqueue({
        ...what,
        function_code: functionCode,
        ...(sessionCode.trim() ? { session_code: sessionCode.trim() } : {}),
        nonce,
      });
      await refreshQueue();
      await flushQueue();
      if ((await pendingScans()).some((s) => s.nonce === nonce)) {
        setQueuedNotice('No network: the scan is queued and will be sent when the connection returns.');
        signal(false);
      }
    },
    [functionCode, sessionCode, refreshQueue, flushQueue],
  );

  useEffect(() => {
    void refreshQueue().then(flushQueue);
    const up = () => {
      setOnline(true);
      void flushQueue();
    };
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    const timer = setInterval(() => {
      void pendingScans().then((p) => (p.length > 0 ? flushQueue() : undefined));
    }, RETRY_MS);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
      clearInterval(timer);
    };
  }, [refreshQueue, flushQueue]);

  useEffect(() => {
    if (!overlayOpen || answer?.kind !== 'accepted') return;
    const t = setTimeout(() => setOverlayOpen(false), ACCEPTED_OVERLAY_MS);
    return () => clearTimeout(t);
  }, [overlayOpen, answer]);

  const onCode = useCallback(
    (payload: string) => {
      const now = Date.now();
      const last = lastCode.current;
      lastCode.current = { payload, seenAt: now };
      if (last && last.payload === payload && now - last.seenAt < SAME_CODE_QUIET_MS) return;
      if (overlayOpenRef.current && answer?.kind === 'rejected') return;
      void submit({ qr_token: payload });
    },
    [submit, answer],
  );
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  const toggleCamera = async () => {
    unlockAudio();
    if (cameraRef.current) {
      cameraRef.current.stop();
      cameraRef.current = null;
      setCameraOn(false);
      return;
    }
    setCameraError(null);
    try {
      if (!videoRef.current) return;
      cameraRef.current = await startCamera(videoRef.current, (p) => onCodeRef.current(p), setStats);
      setCameraOn(true);
    } catch (err) {
      setCameraError(
        `The camera could not start (${(err as Error).name || (err as Error).message}). ` +
          'Allow camera access, or use a secure (https) address.',
      );
    }
  };
  useEffect(() => () => cameraRef.current?.stop(), []);

  const manualAllowed = device.manual_entry !== false;

  return (
    <div class="scanner">
      <header>
        <div>
          <strong>{device.name}</strong> · {device.venue}
        </div>
        <div class="status">
          <span class={online ? 'online' : 'offline'}>{online ? 'Online' : 'Offline'}</span>
          <span data-testid="queue-length" data-count={waiting.length} aria-live="polite">
            Queued: {waiting.length}
          </span>
          <button type="button" class="link" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>

      <section class="settings" aria-label="What is being checked">
        <div class="field">
          <label for="function-code">Entitlement</label>
          <select
            id="function-code"
            value={functionCode}
            onChange={(e) => setFunctionCode(e.currentTarget.value)}
          >
            {choices.length === 0 && <option value="">(loading…)</option>}
            {choices.map((c) => (
              <option key={c.code} value={c.code}>
                {c.name} ({c.code})
              </option>
            ))}
          </select>
          {catalogueError && <p class="error">{catalogueError}</p>}
        </div>
        <div class="field">
          <label for="session-code">Session code (optional)</label>
          <input
            id="session-code"
            value={sessionCode}
            placeholder="e.g. SAILING-0930"
            onInput={(e) => setSessionCode(e.currentTarget.value)}
          />
        </div>
      </section>

      <section class="camera" aria-label="Camera">
        <video ref={videoRef} class={cameraOn ? 'on' : 'off'} aria-label="Camera view">
          {/* A silent camera feed: nothing to caption. */}
          <track kind="captions" />
        </video>
        <button type="button" class="primary" onClick={toggleCamera} data-testid="camera-toggle">
          {cameraOn ? 'Stop camera' : 'Scan with camera'}
        </button>
        {cameraError && (
          <p class="error" role="alert">
            {cameraError}
          </p>
        )}
        {stats && (
          <p
            class="hint"
            data-testid="decode-stats"
            data-decoder={stats.decoder}
            data-frames={stats.frames}
            data-total-ms={stats.totalMs.toFixed(2)}
          >
            Decoder {stats.decoder}: {(stats.totalMs / Math.max(1, stats.frames)).toFixed(1)} ms per frame
          </p>
        )}
      </section>

      <section class="manual" aria-label="Manual entry">
        {manualAllowed ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              unlockAudio();
              const code = ticketCode.trim();
              if (!code) return;
              setTicketCode('');
              void submit({ ticket_code: code });
            }}
          >
            <label for="ticket-code">Ticket code</label>
            <div class="row">
              <input
                id="ticket-code"
                value={ticketCode}
                autoComplete="off"
                autoCapitalize="off"
                spellcheck={false}
                onInput={(e) => setTicketCode(e.currentTarget.value)}
              />
              <button type="submit" disabled={ticketCode.trim() === ''}>
                Redeem
              </button>
            </div>
          </form>
        ) : (
          <p class="hint">Manual entry is switched off for this device: scan the QR code.</p>
        )}
      </section>

      {queuedNotice && (
        <p class="queued" role="status" data-testid="scan-queued">
          {queuedNotice}
        </p>
      )}
      {answer && (
        <ResultPanel
          answer={answer}
          open={overlayOpen}
          functionName={functionName}
          onDismiss={() => setOverlayOpen(false)}
        />
      )}
    </div>
  );
}

function App() {
  const [deviceKey, setDeviceKey] = useState(() => localStorage.getItem(KEY_STORAGE));
  const [device, setDevice] = useState<Device | null>(() => {
    const cached = localStorage.getItem(DEVICE_STORAGE);
    return cached ? (JSON.parse(cached) as Device) : null;
  });

  // A stored key is re-checked on start (a revoked device is signed out); offline, the cached device stands.
  useEffect(() => {
    if (!deviceKey) return;
    api
      .device(deviceKey)
      .then((d) => {
        setDevice(d);
        localStorage.setItem(DEVICE_STORAGE, JSON.stringify(d));
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 401) signOut();
      });
  }, [deviceKey]);

  function signOut() {
    localStorage.removeItem(KEY_STORAGE);
    localStorage.removeItem(DEVICE_STORAGE);
    setDeviceKey(null);
    setDevice(null);
  }

  if (!deviceKey || !device) {
    return (
      <SignIn
        onSignedIn={(key, d) => {
          localStorage.setItem(KEY_STORAGE, key);
          localStorage.setItem(DEVICE_STORAGE, JSON.stringify(d));
          setDeviceKey(key);
          setDevice(d);
        }}
      />
    );
  }
  return <Scanner deviceKey={deviceKey} device={device} onSignOut={signOut} />;
}

render(<App />, document.getElementById('app')!);

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register('/scanner/sw.js', { scope: '/scanner/' }).catch(() => {
    // Without a service worker the app still works online; it just does not open offline.
  });
}
