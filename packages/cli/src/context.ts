// What every command needs: the resolved settings, the output mode and the typed clients.
import { type CruiseClient, createCruiseClient } from '@cruise/client';
import { type Command, InvalidArgumentError } from 'commander';
import { createOutput, type Output } from './output.ts';
import { resolveSettings, type Settings, UsageError } from './profiles.ts';

export interface GlobalOptions {
  url?: string;
  profile?: string;
  json?: boolean;
}

export interface Context {
  settings: Settings;
  output: Output;
  /** A client with the partner's API key (CRUISE_API_KEY or the profile's). */
  partner(): CruiseClient;
  /** A client with the operator token (CRUISE_ADMIN_TOKEN or the profile's). */
  admin(): CruiseClient;
}

const USER_AGENT = 'cruise-cli/0.1';

export function contextOf(command: Command): Context {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const settings = resolveSettings(opts);
  const client = (token: string) =>
    createCruiseClient({ baseUrl: settings.url, token, headers: { 'user-agent': USER_AGENT } });
  return {
    settings,
    output: createOutput(Boolean(opts.json)),
    partner() {
      if (!settings.apiKey) {
        throw new UsageError(
          'no partner API key: set CRUISE_API_KEY or save one with `cruise profile set --api-key KEY`',
        );
      }
      return client(settings.apiKey);
    },
    admin() {
      if (!settings.adminToken) {
        throw new UsageError(
          'no operator token: set CRUISE_ADMIN_TOKEN or save one with `cruise profile set --admin-token TOKEN`',
        );
      }
      return client(settings.adminToken);
    },
  };
}

/** Option parsers: a bad value is a usage error (exit 2) before any request is sent. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('not a whole number');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be ${min}..${max}`);
    return n;
  };
}

export function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('not a date (YYYY-MM-DD)');
  }
  return value;
}

export function oneOf<T extends string>(...choices: T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** `--help` text: one or more examples under the options. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
