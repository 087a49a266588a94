// Reconciliation and billing for one partner over a period, with charts: the tickets issued,
// activated, used and cancelled per day (uPlot; one billing summary per day of the period), and the
// pools against the ticket counts.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Api, BillingSummary, Partner, Reconciliation } from '../api.ts';
import { ErrorBox, isoDay, PoolBar, Section } from '../ui.tsx';

/** A daily chart asks for one summary per day; longer periods show the totals only. */
const MAX_CHART_DAYS = 62;

interface Daily {
  days: string[];
  issued: number[];
  activated: number[];
  used: number[];
  cancelled: number[];
}

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let d = new Date(`${from}T00:00:00Z`);
    isoDay(d) <= to && out.length <= MAX_CHART_DAYS;
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    out.push(isoDay(d));
  }
  return out;
}

function money(m: { amount: number; currency: string }): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currency }).format(m.amount / 100);
}

function DailyChart(props: { daily: Daily }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const { daily } = props;
    const xs = daily.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const series = (label: string, stroke: string) => ({ label, stroke, width: 2, points: { show: true } });
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 260,
        scales: { x: { time: true } },
        series: [
          { label: 'Day' },
          series('Issued', '#1f6feb'),
          series('Activated', '#0a7d32'),
          series('Used', '#8250df'),
          series('Cancelled', '#b3141b'),
        ],
        axes: [{}, { label: 'tickets' }],
      },
      [xs, daily.issued, daily.activated, daily.used, daily.cancelled],
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [props.daily]);
  return (
    <div
      ref={ref}
      class="chart"
      role="img"
      aria-label="Tickets issued, activated, used and cancelled per day"
      data-testid="billing-chart"
    />
  );
}

export function ReportsPage(props: { api: Api; partners: Partner[] }) {
  const { api } = props;
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86_400_000);
  const [partnerId, setPartnerId] = useState('');
  const [from, setFrom] = useState(isoDay(monthAgo));
  const [to, setTo] = useState(isoDay(today));
  const [billing, setBilling] = useState<BillingSummary | null>(null);
  const [recon, setRecon] = useState<Reconciliation | null>(null);
  const [daily, setDaily] = useState<Daily | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!partnerId && props.partners[0]) setPartnerId(props.partners[0].partner_id);
  }, [props.partners, partnerId]);

  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      const [b, r] = await Promise.all([
        api.billing(partnerId, from, to),
        api.reconciliation(partnerId, from, to),
      ]);
      setBilling(b);
      setRecon(r);
      const days = daysBetween(from, to);
      if (days.length <= MAX_CHART_DAYS) {
        const perDay: BillingSummary[] = [];
        // Six at a time: a month's chart is 30 small requests, not 30 at once.
        for (let i = 0; i < days.length; i += 6) {
          perDay.push(...(await Promise.all(days.slice(i, i + 6).map((d) => api.billing(partnerId, d, d)))));
        }
        setDaily({
          days,
          issued: perDay.map((s) => s.totals.issued),
          activated: perDay.map((s) => s.totals.activated),
          used: perDay.map((s) => s.totals.used),
          cancelled: perDay.map((s) => s.totals.cancelled),
        });
      } else setDaily(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Section title="Reconciliation and billing">
        <form
          class="grid-form"
          onSubmit={(e) => {
            e.preventDefault();
            void load();
          }}
        >
          <div class="field">
            <label for="report-partner">Partner</label>
            <select
              id="report-partner"
              required
              value={partnerId}
              onChange={(e) => setPartnerId(e.currentTarget.value)}
            >
              {props.partners.map((p) => (
                <option key={p.partner_id} value={p.partner_id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="report-from">From</label>
            <input
              id="report-from"
              type="date"
              required
              value={from}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="report-to">To (inclusive)</label>
            <input
              id="report-to"
              type="date"
              required
              value={to}
              onInput={(e) => setTo(e.currentTarget.value)}
            />
          </div>
          <button type="submit" disabled={busy || !partnerId}>
            {busy ? 'Loading…' : 'Show'}
          </button>
        </form>
        <ErrorBox error={error} />
      </Section>
      {billing && (
        <Section title="Billing">
          <dl class="totals" data-testid="billing-totals">
            <div>
              <dt>Issued</dt>
              <dd>{billing.totals.issued}</dd>
            </div>
            <div>
              <dt>Activated</dt>
              <dd>{billing.totals.activated}</dd>
            </div>
            <div>
              <dt>Used</dt>
              <dd>{billing.totals.used}</dd>
            </div>
            <div>
              <dt>Cancelled</dt>
              <dd>{billing.totals.cancelled}</dd>
            </div>
            <div>
              <dt>Gross</dt>
              <dd>{money(billing.totals.gross)}</dd>
            </div>
          </dl>
          {daily ? (
            <DailyChart daily={daily} />
          ) : (
            <p class="hint">Pick at most {MAX_CHART_DAYS} days for the daily chart.</p>
          )}
          {billing.by_reseller.length > 0 && (
            <div class="table-wrap">
              <table>
                <caption>By reseller</caption>
                <thead>
                  <tr>
                    <th scope="col">Reseller</th>
                    <th scope="col">Issued</th>
                    <th scope="col">Activated</th>
                    <th scope="col">Used</th>
                    <th scope="col">Cancelled</th>
                    <th scope="col">Gross</th>
                  </tr>
                </thead>
                <tbody>
                  {billing.by_reseller.map((r) => (
                    <tr key={r.reseller_id}>
                      <td>{r.name}</td>
                      <td>{r.issued}</td>
                      <td>{r.activated}</td>
                      <td>{r.used}</td>
                      <td>{r.cancelled}</td>
                      <td>{money(r.gross)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      )}
      {recon && (
        <Section title="Reconciliation">
          <ul class="pools">
            {recon.rows.map((r) => (
              <li key={`${r.product_id}-${r.channel}`} data-testid="reconciliation-row">
                <h4>
                  Product {r.product_id} · {r.channel}
                </h4>
                <PoolBar {...r} />
                <p class="hint">
                  Tickets: {r.tickets_sold} sold, {r.tickets_pre_generated} pre-generated; in the period{' '}
                  {r.activated} activated, {r.used} used, {r.expired} expired, {r.cancelled} cancelled.
                </p>
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}
