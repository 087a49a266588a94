// The operator console in a real Chromium against the four services as processes: create a partner
// (its key shown once and working), set an allocation, see ALLOCATION_CONFLICT, watch held go up when
// the partner reserves through the API, create a device, read the audit log, the reports with their
// chart and the batches; screenshots of each page at 1280 and 390 px.
import { createTestContext, type TestContext } from '@cruise/testkit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppsBuilt } from '../../scripts/build-apps.ts';
import {
  call,
  expectStatus,
  pay,
  type System,
  seedCatalogue,
  startSystem,
  visitDate,
} from '../resilience/system.ts';
import { type Browser, launchChromium, overflowAt, screenshots } from './browser.ts';

let ctx: TestContext;
let system: System;
let browser: Browser;
let page: Page;
let partner: { partner_id: string; api_key: string };

const poolRow = (partnerId: string, productId: number, channel: string) =>
  page.locator(
    `[data-testid="pool"][data-partner-id="${partnerId}"][data-product-id="${productId}"][data-channel="${channel}"]`,
  );

async function open(section: string) {
  await page.getByRole('link', { name: section, exact: true }).click();
}

beforeAll(async () => {
  ctx = await createTestContext();
  await seedCatalogue(ctx.config.DATABASE_URL);
  await ensureAppsBuilt(['console']);
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    // Generous: on a loaded 2-core machine a cold start of four tsx processes can exceed a minute.
    readyTimeoutMs: 180_000,
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  await ctx?.cleanup();
});

describe('operator console in Chromium', () => {
  it('signs in with the admin token, kept out of the URL', async () => {
    await page.goto(`${system.gateway}/console/`);
    await screenshots(page, 'console-sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-at-all');
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('That token was refused.');
    await page.getByLabel('Admin token').fill(system.secrets.adminToken);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'New partner' }).waitFor();
    expect(page.url()).not.toContain(system.secrets.adminToken);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it('creates a partner and shows its working key once', async () => {
    await page.getByLabel('Name').fill('Harbour Tours');
    await page.getByLabel('Requests per minute (optional)').fill('250');
    await page.getByRole('button', { name: 'Create partner' }).click();
    const keyField = page.getByTestId('created-partner-key');
    await keyField.waitFor();
    const apiKey = await keyField.inputValue();
    const row = page.locator('[data-testid="partner-row"]', { hasText: 'Harbour Tours' });
    await row.waitFor();
    partner = { partner_id: (await row.getAttribute('data-partner-id'))!, api_key: apiKey };
    const inventory = await call('GET', `${system.gateway}/api/ota/inventory`, { token: apiKey });
    expect(inventory.status).toBe(200);
    expect(inventory.headers.get('ratelimit-limit')).toBe('250');
    await screenshots(page, 'console-partners');
    expect(await overflowAt(page, 360)).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await keyField.count()).toBe(0);
  });

  it("refuses the console's operator reads without the admin token (a partner key is not enough)", async () => {
    const reads = [
      '/api/admin/pools',
      '/api/admin/batches',
      `/api/admin/partners/${partner.partner_id}/billing/summary?from=2026-01-01&to=2026-01-31`,
      `/api/admin/partners/${partner.partner_id}/reports/reconciliation?from=2026-01-01&to=2026-01-31`,
    ];
    for (const path of reads) {
      expect((await call('GET', `${system.gateway}${path}`)).status).toBe(401);
      expect((await call('GET', `${system.gateway}${path}`, { token: partner.api_key })).status).toBe(401);
    }
  });

  it('suspends and resumes the partner', async () => {
    const row = page.locator(`[data-testid="partner-row"][data-partner-id="${partner.partner_id}"]`);
    await row.getByRole('button', { name: 'Suspend' }).click();
    await row.getByText('SUSPENDED').waitFor();
    const refused = await call('GET', `${system.gateway}/api/ota/inventory`, { token: partner.api_key });
    expect(refused.status).toBe(403);
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByText('ACTIVE', { exact: true }).waitFor();
  });

  it('sets an allocation, shows ALLOCATION_CONFLICT, and sees held go up after a reservation', async () => {
    await open('Allocations');
    await page.getByLabel('Partner', { exact: true }).selectOption(partner.partner_id);
    await page.getByLabel('Product').selectOption('106');
    await page.getByLabel('Channel').selectOption('ota');
    await page.getByLabel('Allocated').fill('50');
    await page.getByRole('button', { name: 'Set allocation' }).click();
    const pool = poolRow(partner.partner_id, 106, 'ota');
    await pool.waitFor();
    expect(await pool.locator('[data-field="allocated"]').textContent()).toBe('50');
    expect(await pool.locator('[data-field="held"]').textContent()).toBe('0');

    // Beyond the product's capacity across all pools.
    await pool.getByLabel('New allocation').fill('100000');
    await pool.getByRole('button', { name: 'Set' }).click();
    const conflict = pool.getByTestId('allocation-conflict');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain('Allocation conflict');

    expectStatus(
      await call('POST', `${system.gateway}/api/ota/reservations`, {
        token: partner.api_key,
        body: { product_id: 106, visit_date: visitDate(), items: [{ customer_type: 'adult', quantity: 3 }] },
      }),
      201,
      'reserve',
    );
    // The page refreshes the pools every few seconds.
    await pool.locator('[data-field="held"]', { hasText: /^3$/ }).waitFor({ timeout: 20_000 });
    expect(await pool.locator('[data-field="available"]').textContent()).toBe('47');
    await screenshots(page, 'console-allocations');
  });

  it('creates a scanner device with its key shown once', async () => {
    await open('Devices');
    await page.getByLabel('Venue').fill('Pier 3');
    await page.getByLabel('Name').fill('Gate B');
    await page.getByRole('button', { name: 'Create device' }).click();
    const keyField = page.getByTestId('created-device-key');
    await keyField.waitFor();
    const deviceKey = await keyField.inputValue();
    const me = await call('GET', `${system.gateway}/venue/device`, { token: deviceKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ venue: 'Pier 3', name: 'Gate B' });
    const row = page.locator('[data-testid="device-row"]', { hasText: 'Gate B' });
    await row.waitFor();
    await screenshots(page, 'console-devices');
    page.once('dialog', (d) => d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    expect((await call('GET', `${system.gateway}/venue/device`, { token: deviceKey })).status).toBe(401);
  });

  it('reads the audit log filtered by partner, with paging', async () => {
    await open('Audit log');
    await page.getByLabel('Partner').selectOption(partner.partner_id);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    // The rows read below are the filtered query's: the table drops the previous query's rows at once
    // and is busy until the new page arrives.
    await page.locator('table[aria-busy="false"]').waitFor();
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    const texts = await rows.allTextContents();
    expect(texts.some((t) => t.includes('/api/ota/reservations'))).toBe(true);
    expect(texts.every((t) => t.includes('Harbour Tours'))).toBe(true);
    await screenshots(page, 'console-audit');
  });

  it('shows billing and reconciliation for the partner with a chart', async () => {
    // A paid reservation of two: two tickets issued and activated today, two units sold.
    const sale = expectStatus(
      await call('POST', `${system.gateway}/api/ota/reservations`, {
        token: partner.api_key,
        body: { product_id: 106, visit_date: visitDate(), items: [{ customer_type: 'adult', quantity: 2 }] },
      }),
      201,
      'reserve',
    );
    expectStatus(await pay(system, sale, `pay-${ctx.id}`), 200, 'pay');
    await open('Reports');
    await page.getByLabel('Partner').selectOption(partner.partner_id);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('billing-totals').waitFor();
    const row = page.getByTestId('reconciliation-row').filter({ hasText: 'Product 106 · ota' });
    await row.waitFor();
    expect(await row.locator('[data-field="held"]').textContent()).toBe('3');
    expect(await row.locator('[data-field="sold"]').textContent()).toBe('2');
    expect(await page.getByTestId('billing-totals').textContent()).toContain('Issued2');
    await page.getByTestId('billing-chart').locator('canvas').waitFor();
    await screenshots(page, 'console-reports');
  });

  it('lists batches of every partner with their progress', async () => {
    expectStatus(
      await call('PUT', `${system.gateway}/api/admin/partners/${partner.partner_id}/allocations`, {
        token: system.secrets.adminToken,
        body: { product_id: 106, channel: 'reseller', allocated: 500 },
      }),
      200,
      'reseller allocation',
    );
    const reseller = expectStatus(
      await call('POST', `${system.gateway}/api/ota/resellers`, {
        token: partner.api_key,
        body: { name: 'Shanghai Sub-agent' },
      }),
      201,
      'reseller',
    );
    const batch = expectStatus(
      await call('POST', `${system.gateway}/api/ota/tickets/bulk-generate`, {
        token: partner.api_key,
        body: {
          product_id: 106,
          quantity: 300,
          reseller_id: reseller.reseller_id,
          batch_reference: 'Q4-SHANGHAI',
        },
      }),
      202,
      'bulk generate',
    );
    await open('Batches');
    await page.getByLabel('Show').selectOption('');
    const row = page.locator(`[data-testid="batch-row"][data-batch-id="${batch.batch_id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Harbour Tours');
    await row.getByText('COMPLETED').waitFor({ timeout: 60_000 });
    expect(await row.locator('progress').getAttribute('value')).toBe('300');
    await screenshots(page, 'console-batches');
  });
});
