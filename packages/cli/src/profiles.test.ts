import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_URL, mask, ProfileStore, resolveSettings, UsageError } from './profiles.ts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'cruise-profiles-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('settings', () => {
  it('take a flag over the environment, the environment over the profile, the profile over the default', () => {
    const env = { XDG_CONFIG_HOME: home };
    expect(resolveSettings({}, env).url).toBe(DEFAULT_URL);
    new ProfileStore(env).set('default', { url: 'http://profile:1', api_key: 'key-from-profile' });
    expect(resolveSettings({}, env)).toMatchObject({ url: 'http://profile:1', apiKey: 'key-from-profile' });
    const withEnv = { ...env, CRUISE_URL: 'http://env:2', CRUISE_API_KEY: 'key-from-env' };
    expect(resolveSettings({}, withEnv)).toMatchObject({
      url: 'http://env:2',
      apiKey: 'key-from-env',
      sources: { url: 'CRUISE_URL', apiKey: 'CRUISE_API_KEY' },
    });
    expect(resolveSettings({ url: 'http://flag:3' }, withEnv).url).toBe('http://flag:3');
  });

  it('select a profile by flag, CRUISE_PROFILE or the current one', () => {
    const env = { XDG_CONFIG_HOME: home };
    const store = new ProfileStore(env);
    store.set('a', { url: 'http://a' });
    store.set('b', { url: 'http://b' });
    expect(resolveSettings({}, env).url).toBe('http://a'); // the first saved becomes current
    store.use('b');
    expect(resolveSettings({}, env).url).toBe('http://b');
    expect(resolveSettings({}, { ...env, CRUISE_PROFILE: 'a' }).url).toBe('http://a');
    expect(resolveSettings({ profile: 'a' }, { ...env, CRUISE_PROFILE: 'b' }).url).toBe('http://a');
    expect(() => store.use('c')).toThrow(UsageError);
  });

  it('keep keys in a file only the user can read, apart from the URLs', async () => {
    const store = new ProfileStore({ XDG_CONFIG_HOME: home });
    store.set('default', { url: 'http://x', api_key: 'ck_live_secret', admin_token: 'admin-secret' });
    expect((await stat(store.credentialsFile)).mode & 0o777).toBe(0o600);
    expect((await stat(store.dir)).mode & 0o077).toBe(0);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(store.configFile, 'utf8')).not.toMatch(/secret/);
    expect(mask('ck_live_abcdefghijklmnop')).toBe('ck_live_…mnop');
  });
});
