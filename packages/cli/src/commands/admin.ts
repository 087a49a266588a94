// The operator's commands (`cruise admin …`), with the operator token.
import { unwrap } from '@cruise/client';
import type { Command } from 'commander';
import { contextOf, examples, integer, oneOf } from '../context.ts';
import { details, printJson, table } from '../output.ts';

export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description("the operator's commands (CRUISE_ADMIN_TOKEN)")
    .addHelpText('after', examples('cruise admin partners create "Acme Travel" --rate-limit 500'));

  const partners = admin
    .command('partners')
    .description('OTA partners')
    .addHelpText('after', examples('cruise admin partners list'));

  partners
    .command('create')
    .description('create a partner; its API key is shown once')
    .argument('<name>')
    .option('--rate-limit <n>', 'requests per rolling minute (default 100)', integer(1, 100_000))
    .addHelpText('after', examples('cruise admin partners create "Acme Travel" --rate-limit 500'))
    .action(async (name: string, opts: { rateLimit?: number }, command: Command) => {
      const ctx = contextOf(command);
      const created = await unwrap(
        ctx.admin().POST('/api/admin/partners', {
          body: { name, ...(opts.rateLimit ? { rate_limit_per_minute: opts.rateLimit } : {}) },
        }),
      );
      if (ctx.output.json) return printJson(ctx.output, created);
      ctx.output.out(
        details([
          ['partner_id', created.partner_id],
          ['name', created.name],
          ['rate_limit_per_minute', created.rate_limit_per_minute],
          ['api_key', created.api_key],
        ]),
      );
      ctx.output.out('The API key is shown only once: save it now (cruise profile set --api-key …).');
    });

  partners
    .command('list')
    .description('every partner')
    .option('--page <n>', 'page number', integer(1), 1)
    .addHelpText('after', examples('cruise admin partners list --json'))
    .action(async (opts: { page: number }, command: Command) => {
      const ctx = contextOf(command);
      const page = await unwrap(
        ctx.admin().GET('/api/admin/partners', { params: { query: { page: opts.page } } }),
      );
      if (ctx.output.json) return printJson(ctx.output, page);
      ctx.output.out(
        table(
          ['partner_id', 'name', 'status', 'rate limit/min', 'created_at'],
          page.data.map((p) => [p.partner_id, p.name, p.status, p.rate_limit_per_minute, p.created_at]),
        ),
      );
    });

  admin
    .command('allocations')
    .description("partners' pools")
    .addHelpText(
      'after',
      examples('cruise admin allocations set PARTNER_ID --product 106 --channel ota --allocated 2000'),
    )
    .command('set')
    .description("set a partner's allocation in one pool")
    .argument('<partner_id>')
    .requiredOption('--product <id>', 'product id', integer(1))
    .requiredOption('--channel <channel>', 'ota or reseller', oneOf('ota', 'reseller'))
    .requiredOption('--allocated <n>', 'units allocated to the pool', integer(0))
    .addHelpText(
      'after',
      examples('cruise admin allocations set 3f0c…  --product 106 --channel reseller --allocated 100000'),
    )
    .action(
      async (
        partnerId: string,
        opts: { product: number; channel: 'ota' | 'reseller'; allocated: number },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        const pool = await unwrap(
          ctx.admin().PUT('/api/admin/partners/{partner_id}/allocations', {
            params: { path: { partner_id: partnerId } },
            body: { product_id: opts.product, channel: opts.channel, allocated: opts.allocated },
          }),
        );
        if (ctx.output.json) return printJson(ctx.output, pool);
        ctx.output.out(table(Object.keys(pool), [Object.values(pool)]));
      },
    );

  const devices = admin
    .command('devices')
    .description('venue scanner devices')
    .addHelpText('after', examples('cruise admin devices create --venue "Pier 3" --name "Gate A"'));

  devices
    .command('create')
    .description('register a scanner; its device key is shown once')
    .requiredOption('--venue <venue>', 'where it scans, e.g. "Pier 3"')
    .requiredOption('--name <name>', 'its name, e.g. "Gate A"')
    .option('--no-manual-entry', 'refuse typed ticket codes on this device')
    .addHelpText('after', examples('cruise admin devices create --venue "Pier 3" --name "Gate A"'))
    .action(async (opts: { venue: string; name: string; manualEntry: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const device = await unwrap(
        ctx.admin().POST('/api/admin/devices', {
          body: { venue: opts.venue, name: opts.name, manual_entry: opts.manualEntry },
        }),
      );
      if (ctx.output.json) return printJson(ctx.output, device);
      ctx.output.out(
        details([
          ['device_id', device.device_id],
          ['venue', device.venue],
          ['name', device.name],
          ['manual_entry', String(device.manual_entry)],
          ['device_key', device.device_key],
        ]),
      );
      ctx.output.out('The device key is shown only once: enter it on the scanner now.');
    });
}
