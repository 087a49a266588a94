import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

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
});
