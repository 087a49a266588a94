// The partner's commands: inventory, reserve, batches, tickets.
import { resolve } from 'node:path';
import { type CruiseClient, type Schemas, unwrap, waitForBatch } from '@cruise/client';
import { saveBatchCsv } from '@cruise/client/node';
import type { Command } from 'commander';
import { contextOf, examples, integer, isoDate, oneOf } from '../context.ts';
import {
  batchProgress,
  csvLine,
  details,
  money,
  type Output,
  printJson,
  progressReporter,
  table,
} from '../output.ts';
import { UsageError } from '../profiles.ts';

type Batch = Schemas['Batch'];

export function registerPartnerCommands(program: Command): void {
  program
    .command('inventory')
    .description("the caller's pools and the price matrix for a visit date")
    .option('--date <YYYY-MM-DD>', 'visit date (default: today at the venue)', isoDate)
    .addHelpText(
      'after',
      examples('cruise inventory --date 2026-12-05', 'cruise inventory --json | jq .products[0]'),
    )
    .action(async (opts: { date?: string }, command: Command) => {
      const ctx = contextOf(command);
      const inv = await unwrap(
        ctx
          .partner()
          .GET('/api/ota/inventory', { params: { query: opts.date ? { visit_date: opts.date } : {} } }),
      );
      if (ctx.output.json) return printJson(ctx.output, inv);
      ctx.output.out(`Inventory for ${inv.visit_date} (${inv.day_type})`);
      const rows: unknown[][] = [];
      for (const p of inv.products) {
        for (const [channel, pool] of Object.entries(p.channels)) {
          rows.push([p.product_id, p.name, channel, pool.allocated, pool.held, pool.sold, pool.available]);
        }
      }
      ctx.output.out(table(['product', 'name', 'channel', 'allocated', 'held', 'sold', 'available'], rows));
      const prices: unknown[][] = inv.products.map((p) => [
        p.product_id,
        p.pricing.customer_types
          .map((c) => `${c.customer_type} ${money({ amount: c.price, currency: p.pricing.currency })}`)
          .join(', '),
      ]);
      ctx.output.out(table(['product', `prices (${inv.day_type})`], prices));
    });

  program
    .command('reserve')
    .description("hold units in the caller's ota pool for 24 h")
    .argument('<items...>', 'customer_type=quantity, e.g. adult=2 child=1')
    .requiredOption('--product <id>', 'product id', integer(1))
    .requiredOption('--date <YYYY-MM-DD>', 'visit date', isoDate)
    .option('--idempotency-key <key>', 'repeat safely: the same key returns the same reservation')
    .option('--reference <text>', 'your own order reference (reseller_reference)')
    .option('--reseller <id>', 'the reseller the sale is for')
    .addHelpText(
      'after',
      examples('cruise reserve --product 106 --date 2026-12-05 adult=2 child=1 --idempotency-key order-991'),
    )
    .action(
      async (
        itemArgs: string[],
        opts: {
          product: number;
          date: string;
          idempotencyKey?: string;
          reference?: string;
          reseller?: string;
        },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const items = itemArgs.map(parseItem);
        const reservation = await unwrap(
          ctx.partner().POST('/api/ota/reservations', {
            body: {
              product_id: opts.product,
              visit_date: opts.date,
              items,
              ...(opts.reference ? { reseller_reference: opts.reference } : {}),
              ...(opts.reseller ? { reseller_id: opts.reseller } : {}),
            },
            ...(opts.idempotencyKey
              ? { params: { header: { 'idempotency-key': opts.idempotencyKey } } }
              : {}),
          }),
        );
        if (ctx.output.json) return printJson(ctx.output, reservation);
        ctx.output.out(
          details([
            ['reservation_id', reservation.reservation_id],
            ['status', reservation.status],
            ['product', reservation.product_id],
            ['visit_date', reservation.visit_date],
            ['items', reservation.items.map((i) => `${i.customer_type}×${i.quantity}`).join(' ')],
            ['quantity', reservation.quantity],
            ['total', money(reservation.total)],
            ['expires_at', reservation.expires_at],
          ]),
        );
      },
    );

  const resellers = program
    .command('resellers')
    .description("the partner's sub-resellers (batches are generated for one)")
    .addHelpText('after', examples('cruise resellers create "Shanghai Seller" --region Shanghai'));

  resellers
    .command('create')
    .description('add a reseller')
    .argument('<name>')
    .option('--email <email>', 'contact email')
    .option('--region <region>', 'region')
    .option('--commission <rate>', 'commission rate, 0..1', Number.parseFloat)
    .addHelpText(
      'after',
      examples('cruise resellers create "Shanghai Seller" --email ops@seller.example --region Shanghai'),
    )
    .action(
      async (
        name: string,
        opts: { email?: string; region?: string; commission?: number },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const reseller = await unwrap(
          ctx.partner().POST('/api/ota/resellers', {
            body: {
              name,
              ...(opts.email ? { contact_email: opts.email } : {}),
              ...(opts.region ? { region: opts.region } : {}),
              ...(opts.commission !== undefined ? { commission_rate: opts.commission } : {}),
            },
          }),
        );
        if (ctx.output.json) return printJson(ctx.output, reseller);
        ctx.output.out(
          table(
            ['reseller_id', 'name', 'region', 'status'],
            [[reseller.reseller_id, reseller.name, reseller.region, reseller.status]],
          ),
        );
      },
    );

  resellers
    .command('list')
    .description("the partner's resellers")
    .addHelpText('after', examples('cruise resellers list'))
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const page = await unwrap(
        ctx.partner().GET('/api/ota/resellers', { params: { query: { page_size: 500 } } }),
      );
      if (ctx.output.json) return printJson(ctx.output, page);
      ctx.output.out(
        table(
          ['reseller_id', 'name', 'region', 'status'],
          page.data.map((r) => [r.reseller_id, r.name, r.region, r.status]),
        ),
      );
    });

  const batches = program
    .command('batches')
    .description('pre-generated ticket batches for resellers')
    .addHelpText('after', examples('cruise batches create --product 106 --quantity 5000 --wait'));

  batches
    .command('create')
    .description('hold units in the reseller pool and generate PRE_GENERATED tickets')
    .requiredOption('--product <id>', 'product id', integer(1))
    .requiredOption('--quantity <n>', 'tickets to generate (1..100000)', integer(1, 100_000))
    .option('--reseller <id>', "the reseller (default: the partner's only active reseller)")
    .option('--reference <text>', 'batch reference, e.g. Q4-SHANGHAI')
    .option('--idempotency-key <key>', 'repeat safely: the same key returns the same batch')
    .option('--wait', 'wait for the batch, with a progress bar (rate and ETA)')
    .option('--interval <ms>', 'time between polls while waiting', integer(50, 60_000), 1000)
    .addHelpText(
      'after',
      examples(
        'cruise batches create --product 106 --quantity 5000 --reference Q4-SHANGHAI --wait',
        'cruise batches create --product 106 --quantity 100 --reseller 6f1c…',
      ),
    )
    .action(
      async (
        opts: {
          product: number;
          quantity: number;
          reseller?: string;
          reference?: string;
          idempotencyKey?: string;
          wait?: boolean;
          interval: number;
        },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const api = ctx.partner();
        const resellerId = opts.reseller ?? (await onlyActiveReseller(api));
        const accepted = await unwrap(
          api.POST('/api/ota/tickets/bulk-generate', {
            body: {
              product_id: opts.product,
              quantity: opts.quantity,
              reseller_id: resellerId,
              ...(opts.reference ? { batch_reference: opts.reference } : {}),
            },
            ...(opts.idempotencyKey
              ? { params: { header: { 'idempotency-key': opts.idempotencyKey } } }
              : {}),
          }),
        );
        if (!opts.wait) {
          if (ctx.output.json) return printJson(ctx.output, accepted);
          ctx.output.out(
            `Batch ${accepted.batch_id} ${accepted.status}: ${accepted.quantity.toLocaleString('en-US')} tickets.\n` +
              `Follow it with: cruise batches wait ${accepted.batch_id}`,
          );
          return;
        }
        await waitAndReport(api, ctx.output, accepted.batch_id, opts.interval);
      },
    );

  batches
    .command('wait')
    .description('wait for a batch to finish, with a progress bar (rate and ETA)')
    .argument('<batch_id>')
    .option('--interval <ms>', 'time between polls', integer(50, 60_000), 1000)
    .addHelpText('after', examples('cruise batches wait 0b5e7f7e-…', 'cruise batches wait 0b5e7f7e-… --json'))
    .action(async (batchId: string, opts: { interval: number }, command: Command) => {
      const ctx = contextOf(command);
      await waitAndReport(ctx.partner(), ctx.output, batchId, opts.interval);
    });

  batches
    .command('export')
    .description("stream a batch's ticket codes to a CSV file")
    .argument('<batch_id>')
    .requiredOption('-o, --output <file>', 'CSV file to write')
    .addHelpText('after', examples('cruise batches export 0b5e7f7e-… -o tickets.csv'))
    .action(async (batchId: string, opts: { output: string }, command: Command) => {
      const ctx = contextOf(command);
      const api = ctx.partner();
      const batch = await unwrap(
        api.GET('/api/ota/batches/{batch_id}', { params: { path: { batch_id: batchId } } }),
      );
      if (batch.status !== 'COMPLETED') {
        process.stderr.write(
          `cruise: batch is ${batch.status} (${batch.generated}/${batch.quantity}); exporting what exists so far\n`,
        );
      }
      // pnpm runs scripts from the repository root; a relative path means the caller's directory.
      const file = resolve(process.env.INIT_CWD ?? process.cwd(), opts.output);
      const reporter = progressReporter(ctx.output, 'export', batchId, 'codes');
      const started = Date.now();
      const total = batch.generated;
      let lastDraw = 0;
      let lastDone = 0;
      reporter.update({ done: 0, total, rate: null, etaSeconds: null });
      const { rows } = await saveBatchCsv(api, batchId, file, {
        onRows: (done) => {
          const now = Date.now();
          if (now - lastDraw < 100 && done < total) return;
          lastDraw = now;
          lastDone = done;
          const secs = (now - started) / 1000;
          const rate = secs > 0 ? done / secs : null;
          reporter.update({ done, total, rate, etaSeconds: rate ? Math.max(0, total - done) / rate : null });
        },
      });
      const secs = (Date.now() - started) / 1000;
      if (rows !== lastDone)
        reporter.update({
          done: rows,
          total: Math.max(total, rows),
          rate: secs > 0 ? rows / secs : null,
          etaSeconds: 0,
        });
      reporter.stop();
      if (ctx.output.json || !ctx.output.tty) {
        ctx.output.out(JSON.stringify({ event: 'done', batch_id: batchId, file, rows }));
      } else {
        ctx.output.out(`Wrote ${rows.toLocaleString('en-US')} ticket codes to ${file}`);
      }
    });

  batches
    .command('list')
    .description("the caller's batches, newest first")
    .option('--page <n>', 'page number', integer(1), 1)
    .option('--page-size <n>', 'batches per page (1..500)', integer(1, 500), 20)
    .addHelpText('after', examples('cruise batches list --page-size 5'))
    .action(async (opts: { page: number; pageSize: number }, command: Command) => {
      const ctx = contextOf(command);
      const page = await unwrap(
        ctx
          .partner()
          .GET('/api/ota/batches', { params: { query: { page: opts.page, page_size: opts.pageSize } } }),
      );
      if (ctx.output.json) return printJson(ctx.output, page);
      ctx.output.out(
        table(
          ['batch_id', 'status', 'product', 'generated', 'quantity', 'reference', 'created_at'],
          page.data.map((b) => [
            b.batch_id,
            b.status,
            b.product_id,
            b.generated,
            b.quantity,
            b.batch_reference,
            b.created_at,
          ]),
        ),
      );
      ctx.output.out(
        `page ${page.page}, ${page.data.length} of ${page.total}${page.has_more ? ' (more: --page)' : ''}`,
      );
    });

  const tickets = program
    .command('tickets')
    .description("the caller's tickets")
    .addHelpText('after', examples('cruise tickets list --status ACTIVE'));

  tickets
    .command('list')
    .description("list the caller's tickets, newest first")
    .option(
      '--status <status>',
      'PRE_GENERATED, ACTIVE, USED, CANCELLED or EXPIRED',
      oneOf('PRE_GENERATED', 'ACTIVE', 'USED', 'CANCELLED', 'EXPIRED'),
    )
    .option('--batch <id>', 'only this batch')
    .option('--reservation <id>', 'only this reservation')
    .option('--reseller <id>', 'only this reseller')
    .option('--product <id>', 'only this product', integer(1))
    .option('--page <n>', 'page number', integer(1))
    .option('--cursor <cursor>', 'continue after a page: its next_cursor (instead of --page)')
    .option('--page-size <n>', 'tickets per page (1..500)', integer(1, 500), 50)
    .option('--all', 'every page from here on, following next_cursor (with json: one ticket per line)')
    .option('--format <format>', 'table, json or csv', oneOf('table', 'json', 'csv'), 'table')
    .addHelpText(
      'after',
      examples(
        'cruise tickets list --status ACTIVE',
        'cruise tickets list --batch 0b5e7f7e-… --all --format csv > codes.csv',
      ),
    )
    .action(
      async (
        opts: {
          status?: Schemas['Ticket']['status'];
          batch?: string;
          reservation?: string;
          reseller?: string;
          product?: number;
          page?: number;
          cursor?: string;
          pageSize: number;
          all?: boolean;
          format: 'table' | 'json' | 'csv';
        },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const format = ctx.output.json ? 'json' : opts.format;
        const api = ctx.partner();
        const query = {
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.batch ? { batch_id: opts.batch } : {}),
          ...(opts.reservation ? { reservation_id: opts.reservation } : {}),
          ...(opts.reseller ? { reseller_id: opts.reseller } : {}),
          ...(opts.product ? { product_id: opts.product } : {}),
          page_size: opts.pageSize,
        };
        const columns = [
          'ticket_code',
          'status',
          'product_id',
          'channel',
          'customer_type',
          'batch_id',
          'created_at',
        ] as const;
        const row = (t: Schemas['Ticket']) => columns.map((c) => t[c]);
        if (opts.page !== undefined && opts.cursor !== undefined) {
          throw new UsageError('--page and --cursor are exclusive: a cursor continues a walk');
        }
        // The first page by number or cursor; the rest by next_cursor, which neither repeats nor skips
        // a ticket while others are being issued, and costs the same at any depth.
        let at: { page?: number; cursor?: string } = opts.cursor
          ? { cursor: opts.cursor }
          : { page: opts.page ?? 1 };
        let first = true;
        let shown = 0;
        for (;;) {
          const page = await unwrap(api.GET('/api/ota/tickets', { params: { query: { ...query, ...at } } }));
          if (format === 'json' && !opts.all) return printJson(ctx.output, page);
          if (format === 'json') for (const t of page.data) ctx.output.out(JSON.stringify(t));
          if (format === 'csv') {
            const lines = page.data.map((t) => csvLine(row(t)));
            if (first) lines.unshift(csvLine([...columns]));
            if (lines.length > 0) ctx.output.out(lines.join('\n'));
          }
          if (format === 'table') {
            ctx.output.out(table([...columns], page.data.map(row)));
          }
          shown += page.data.length;
          first = false;
          if (!opts.all || page.next_cursor === null) {
            if (format === 'table') {
              const total = `${page.total.toLocaleString('en-US')}${page.total_is_lower_bound ? '+' : ''}`;
              const more =
                page.next_cursor && !opts.all ? ` (more: --cursor ${page.next_cursor} or --all)` : '';
              ctx.output.out(`${shown.toLocaleString('en-US')} of ${total} tickets${more}`);
            }
            return;
          }
          at = { cursor: page.next_cursor };
        }
      },
    );
}

function parseItem(arg: string): { customer_type: string; quantity: number } {
  const m = /^([a-z_]+)=(\d+)$/i.exec(arg);
  if (!m) throw new UsageError(`"${arg}" is not customer_type=quantity (e.g. adult=2)`);
  return { customer_type: m[1]!.toLowerCase(), quantity: Number(m[2]) };
}

/** Without --reseller a batch goes to the partner's one active reseller; with none or several, ask. */
async function onlyActiveReseller(api: CruiseClient): Promise<string> {
  const page = await unwrap(api.GET('/api/ota/resellers', { params: { query: { page_size: 500 } } }));
  const active = page.data.filter((r) => r.status === 'ACTIVE');
  if (active.length === 1) return active[0]!.reseller_id;
  if (active.length === 0)
    throw new UsageError('no active reseller: create one first, then pass --reseller ID');
  throw new UsageError(
    `--reseller is required: ${active.length} active resellers (${active
      .slice(0, 5)
      .map((r) => `${r.reseller_id} ${r.name}`)
      .join('; ')}${active.length > 5 ? '; …' : ''})`,
  );
}

async function waitAndReport(
  api: CruiseClient,
  output: Output,
  batchId: string,
  intervalMs: number,
): Promise<void> {
  const reporter = progressReporter(output, 'batch', batchId, 'tickets');
  let batch: Batch;
  try {
    batch = await waitForBatch(api, batchId, { intervalMs, onProgress: batchProgress(reporter) });
  } finally {
    reporter.stop();
  }
  if (output.json || !output.tty) {
    output.out(JSON.stringify({ event: 'done', batch }));
    return;
  }
  const secs = batch.completed_at
    ? (Date.parse(batch.completed_at) - Date.parse(batch.created_at)) / 1000
    : null;
  output.out(
    `Batch ${batch.batch_id} ${batch.status}: ${batch.generated.toLocaleString('en-US')} tickets` +
      (secs !== null ? ` in ${secs.toFixed(1)} s` : '') +
      `. Export: cruise batches export ${batch.batch_id} -o tickets.csv`,
  );
}
