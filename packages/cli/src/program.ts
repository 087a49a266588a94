// The `cruise` command line: every command of the contract's "Command line" section, on @cruise/client.
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.ts';
import { registerPartnerCommands } from './commands/partner.ts';
import { registerProfileCommands } from './commands/profile.ts';
import { examples } from './context.ts';

export function buildProgram(): Command {
  const program = new Command('cruise')
    .description(
      'The cruise ticketing API from the command line, for partners and operators.\n' +
        'Configuration: --url / CRUISE_URL, CRUISE_API_KEY, CRUISE_ADMIN_TOKEN, or a saved profile.',
    )
    .version('0.1.0')
    .option('--url <url>', 'the gateway (default: CRUISE_URL, the profile, or http://localhost:8080)')
    .option('--profile <name>', 'use this saved profile (default: CRUISE_PROFILE or the current one)')
    .option('--json', 'JSON for scripts instead of tables (progress as JSON lines)')
    .showHelpAfterError('(add --help for usage)')
    // Usage mistakes end with exit code 2 (main.ts); this keeps commander from exiting by itself.
    .exitOverride()
    .addHelpText(
      'after',
      examples(
        'cruise inventory --date 2026-12-05',
        'cruise reserve --product 106 --date 2026-12-05 adult=2 child=1',
        'cruise batches create --product 106 --quantity 5000 --wait',
      ),
    );
  registerPartnerCommands(program);
  registerAdminCommands(program);
  registerProfileCommands(program);
  return program;
}
