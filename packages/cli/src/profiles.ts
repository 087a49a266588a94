// Where the CLI finds the gateway and the caller's credentials: flags, then CRUISE_URL / CRUISE_API_KEY /
// CRUISE_ADMIN_TOKEN, then the saved profile. Profiles live under the user's config directory
// ($XDG_CONFIG_HOME/cruise or ~/.config/cruise): URLs in config.json, keys in credentials.json, which is
// readable by the user only (0600, in a 0700 directory).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const DEFAULT_URL = 'http://localhost:8080';

export interface Profile {
  url?: string;
  api_key?: string;
  admin_token?: string;
}

interface ConfigFile {
  current?: string;
  profiles: Record<string, { url?: string }>;
}

interface CredentialsFile {
  profiles: Record<string, { api_key?: string; admin_token?: string }>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'cruise');
}

function readJson<T>(file: string, empty: T): T {
  if (!existsSync(file)) return empty;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
}

/** Written to a temporary file with `mode` and renamed, so the file never exists with wider rights. */
function writeJson(file: string, value: unknown, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** A mistake in how the CLI was called or configured: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export class ProfileStore {
  readonly dir: string;
  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.dir = configDir(env);
  }
  get configFile(): string {
    return path.join(this.dir, 'config.json');
  }
  get credentialsFile(): string {
    return path.join(this.dir, 'credentials.json');
  }
  private config(): ConfigFile {
    return readJson<ConfigFile>(this.configFile, { profiles: {} });
  }
  private credentials(): CredentialsFile {
    return readJson<CredentialsFile>(this.credentialsFile, { profiles: {} });
  }

  current(): string {
    return this.config().current ?? 'default';
  }

  names(): string[] {
    return Object.keys(this.config().profiles).sort();
  }

  get(name: string): Profile {
    return { ...this.config().profiles[name], ...this.credentials().profiles[name] };
  }

  set(name: string, changes: Profile): Profile {
    const config = this.config();
    const creds = this.credentials();
    config.profiles[name] = { ...config.profiles[name] };
    creds.profiles[name] = { ...creds.profiles[name] };
    if (changes.url !== undefined) config.profiles[name].url = changes.url;
    if (changes.api_key !== undefined) creds.profiles[name].api_key = changes.api_key;
    if (changes.admin_token !== undefined) creds.profiles[name].admin_token = changes.admin_token;
    config.current ??= name;
    writeJson(this.configFile, config, 0o644);
    writeJson(this.credentialsFile, creds, 0o600);
    return this.get(name);
  }

  use(name: string): void {
    const config = this.config();
    if (!config.profiles[name]) {
      throw new UsageError(`no profile "${name}" (known: ${this.names().join(', ') || 'none'})`);
    }
    config.current = name;
    writeJson(this.configFile, config, 0o644);
  }
}

export interface Settings {
  url: string;
  apiKey: string | undefined;
  adminToken: string | undefined;
  profile: string;
  /** Where each value came from, for `cruise profile show`. */
  sources: { url: string; apiKey: string; adminToken: string };
}

/** Flags win over the environment, the environment over the saved profile. */
export function resolveSettings(
  flags: { url?: string; profile?: string },
  env: NodeJS.ProcessEnv = process.env,
  store = new ProfileStore(env),
): Settings {
  const profile = flags.profile ?? env.CRUISE_PROFILE ?? store.current();
  const saved = store.get(profile);
  const pick = (flag: string | undefined, envName: string, fromProfile: string | undefined) => {
    if (flag) return { value: flag, source: 'flag' };
    if (env[envName]) return { value: env[envName], source: envName };
    if (fromProfile) return { value: fromProfile, source: `profile ${profile}` };
    return { value: undefined, source: 'unset' };
  };
  const url = pick(flags.url, 'CRUISE_URL', saved.url);
  const apiKey = pick(undefined, 'CRUISE_API_KEY', saved.api_key);
  const adminToken = pick(undefined, 'CRUISE_ADMIN_TOKEN', saved.admin_token);
  return {
    url: url.value ?? DEFAULT_URL,
    apiKey: apiKey.value,
    adminToken: adminToken.value,
    profile,
    sources: {
      url: url.value ? url.source : 'default',
      apiKey: apiKey.source,
      adminToken: adminToken.source,
    },
  };
}

/** `ck_live_abcd…wxyz`: enough to recognise a key, never enough to use it. */
export function mask(secret: string | undefined): string {
  if (!secret) return '(none)';
  if (secret.length <= 12) return '****';
  return `${secret.slice(0, 8)}…${secret.slice(-4)}`;
}
