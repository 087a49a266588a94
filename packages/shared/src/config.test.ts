import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, KNOWN_DEVELOPMENT_SECRETS, loadConfig, SECRET_VARIABLES } from './config.ts';

const strong = () => randomBytes(36).toString('base64');
/** A production configuration that passes every rule: five strong, distinct secrets. */
function productionEnv(): Record<string, string> {
  return Object.fromEntries([['NODE_ENV', 'production'], ...SECRET_VARIABLES.map((n) => [n, strong()])]);
}

describe('loadConfig', () => {
  it('works with no variables on a developer machine', () => {
    const c = loadConfig({});
    expect(c.GATEWAY_PORT).toBe(8080);
    expect(c.RESERVATION_HOLD_SECONDS).toBe(86_400);
    expect(c.INVENTORY_URL).toBe('http://127.0.0.1:8081');
    expect(c.VENUE_TIMEZONE).toBe('Asia/Shanghai');
  });

  it('coerces numbers and names a bad variable', () => {
    expect(loadConfig({ QR_TTL_SECONDS: '60' }).QR_TTL_SECONDS).toBe(60);
    expect(() => loadConfig({ QR_TTL_SECONDS: 'soon' })).toThrow(/QR_TTL_SECONDS/);
    expect(() => loadConfig({ VENUE_TIMEZONE: 'Mars/Olympus' })).toThrow(/VENUE_TIMEZONE/);
  });

  it('accepts only explicit booleans', () => {
    expect(loadConfig({ RUN_WORKERS: '0' }).RUN_WORKERS).toBe(false);
    expect(() => loadConfig({ RUN_WORKERS: 'yes' })).toThrow(ConfigError);
  });

  it('refuses to start in production without secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN[\s\S]*PAYMENT_WEBHOOK_SECRET/);
  });

  it('accepts five strong, distinct secrets in production', () => {
    const env = productionEnv();
    const c = loadConfig(env);
    expect(c.ADMIN_TOKEN).toBe(env.ADMIN_TOKEN);
    expect(c.INTERNAL_TOKEN).toBe(env.INTERNAL_TOKEN);
    expect(c.INTERNAL_TOKEN_GENERATED).toBe(false);
    expect(c.METRICS_TOKEN).toBe(env.METRICS_TOKEN);
  });

  it('requires INTERNAL_TOKEN and METRICS_TOKEN in production', () => {
    for (const name of ['INTERNAL_TOKEN', 'METRICS_TOKEN']) {
      const env = productionEnv();
      delete env[name];
      expect(() => loadConfig(env)).toThrow(new RegExp(`${name}: is required in production`));
    }
  });

  it.each(SECRET_VARIABLES)('refuses a published development value as %s in production', (name) => {
    for (const value of KNOWN_DEVELOPMENT_SECRETS) {
      expect(() => loadConfig({ ...productionEnv(), [name]: value })).toThrow(
        new RegExp(`${name}: (is a published development value|is a placeholder)`),
      );
    }
    // The defaults compose used to fill in, and the old code constant of the internal secret.
    expect(() => loadConfig({ ...productionEnv(), [name]: 'dev-internal-token' })).toThrow(
      new RegExp(`${name}: is a published development value`),
    );
  });

  it.each(SECRET_VARIABLES)('refuses a placeholder containing change-me as %s in production', (name) => {
    const value = `${strong()}-CHANGE-ME`;
    expect(() => loadConfig({ ...productionEnv(), [name]: value })).toThrow(
      new RegExp(`${name}: is a placeholder`),
    );
  });

  it.each(SECRET_VARIABLES)('refuses fewer than 32 characters as %s in production', (name) => {
    expect(() => loadConfig({ ...productionEnv(), [name]: 'x7Qp-'.repeat(6).slice(0, 31) })).toThrow(
      new RegExp(`${name}: is shorter than 32 characters`),
    );
    expect(loadConfig({ ...productionEnv(), [name]: 'x7Qp-z'.repeat(6).slice(0, 32) })).toBeTruthy();
  });

  it('refuses one value used for two purposes in production, naming the second', () => {
    const env = productionEnv();
    expect(() => loadConfig({ ...env, QR_SIGNING_KEY: env.PAYMENT_WEBHOOK_SECRET! })).toThrow(
      /QR_SIGNING_KEY: has the same value as PAYMENT_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ ...env, METRICS_TOKEN: env.ADMIN_TOKEN! })).toThrow(
      /METRICS_TOKEN: has the same value as ADMIN_TOKEN/,
    );
  });

  it('has no internal secret constant: unset, each load generates its own random one', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.INTERNAL_TOKEN_GENERATED).toBe(true);
    expect(a.INTERNAL_TOKEN.length).toBeGreaterThanOrEqual(43);
    expect(a.INTERNAL_TOKEN).not.toBe(b.INTERNAL_TOKEN);
    expect(KNOWN_DEVELOPMENT_SECRETS).not.toContain(a.INTERNAL_TOKEN);
    expect(loadConfig({ INTERNAL_TOKEN: 'given' }).INTERNAL_TOKEN_GENERATED).toBe(false);
  });

  it('keeps development usable: the documented operator token works outside production only', () => {
    expect(loadConfig({}).ADMIN_TOKEN).toBe('dev-admin-token');
    expect(loadConfig({ ADMIN_TOKEN: 'dev-admin-token' }).ADMIN_TOKEN).toBe('dev-admin-token');
    expect(() => loadConfig({ ...productionEnv(), ADMIN_TOKEN: 'dev-admin-token' })).toThrow(/ADMIN_TOKEN/);
  });
});
