// Saved profiles: `cruise profile set/use/show`.
import type { Command } from 'commander';
import { contextOf, examples } from '../context.ts';
import { details, printJson } from '../output.ts';
import { mask, ProfileStore } from '../profiles.ts';

export function registerProfileCommands(program: Command): void {
  const profile = program
    .command('profile')
    .description('saved gateway URLs and keys (the keys file is readable by you only)')
    .addHelpText('after', examples('cruise profile set --url http://localhost:8080 --api-key ck_live_…'));

  profile
    .command('set')
    .description('create or change a profile (the first one becomes the current one)')
    .argument('[name]', 'profile name (default: the current profile)')
    .option('--api-key <key>', "a partner's API key")
    .option('--admin-token <token>', 'the operator token')
    .addHelpText(
      'after',
      examples(
        'cruise profile set --url http://localhost:8080 --api-key ck_live_…',
        'cruise profile set ops --url https://tickets.example --admin-token …',
      ),
    )
    .action((name: string | undefined, opts: { apiKey?: string; adminToken?: string }, command: Command) => {
      const globals = command.optsWithGlobals<{ url?: string }>();
      const store = new ProfileStore();
      const target = name ?? store.current();
      const saved = store.set(target, {
        ...(globals.url ? { url: globals.url } : {}),
        ...(opts.apiKey ? { api_key: opts.apiKey } : {}),
        ...(opts.adminToken ? { admin_token: opts.adminToken } : {}),
      });
      const ctx = contextOf(command);
      const shown = {
        profile: target,
        url: saved.url ?? null,
        api_key: mask(saved.api_key),
        admin_token: mask(saved.admin_token),
      };
      if (ctx.output.json) return printJson(ctx.output, shown);
      ctx.output.out(`Saved profile "${target}" in ${store.dir}`);
    });

  profile
    .command('use')
    .description('make a saved profile the current one')
    .argument('<name>')
    .addHelpText('after', examples('cruise profile use ops'))
    .action((name: string) => {
      new ProfileStore().use(name);
      process.stdout.write(`Now using profile "${name}"\n`);
    });

  profile
    .command('show')
    .description('what the CLI will use, and where each value comes from (keys masked)')
    .addHelpText(
      'after',
      examples('cruise profile show', 'CRUISE_API_KEY=ck_live_… cruise profile show --json'),
    )
    .action((_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const s = ctx.settings;
      const store = new ProfileStore();
      const shown = {
        profile: s.profile,
        profiles: store.names(),
        config_dir: store.dir,
        url: s.url,
        url_from: s.sources.url,
        api_key: mask(s.apiKey),
        api_key_from: s.sources.apiKey,
        admin_token: mask(s.adminToken),
        admin_token_from: s.sources.adminToken,
      };
      if (ctx.output.json) return printJson(ctx.output, shown);
      ctx.output.out(
        details(Object.entries(shown).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
      );
    });
}
