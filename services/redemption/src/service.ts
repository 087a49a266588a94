// The redemption service, all of it: QR tokens, public ticket info, scanner redemption and devices
// (routes/), the ticket projection fed by issuance's events (messaging/), the hourly purge of retry
// records (jobs/), its tables (db/schema) and the logic (domain/). Wired by @cruise/shared.
import {
  consumer,
  createClientBudgets,
  createDeviceRoute,
  createQrTokenRoute,
  createRateLimiter,
  currentDeviceRoute,
  defineService,
  idempotentRoute,
  job,
  listDevicesRoute,
  redeemRoute,
  revokeDeviceRoute,
  route,
  ticketInfoRoute,
  updateDeviceRoute,
} from '@cruise/shared';
import type { RedemptionContext } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { redemptionSchema } from './db/schema/redemption-schema.ts';
import { DeviceKeys } from './domain/devices.ts';
import { purgeRetryRecords } from './jobs/purge-retry-records.ts';
import { projectTickets, TICKET_EVENTS } from './messaging/issuance-events.ts';
import { issuanceTicketSource } from './messaging/ticket-snapshots.ts';
import { createRedemptionMetrics } from './metrics.ts';
import { createDevice, getDevices, removeDevice, updateDevice } from './routes/devices.ts';
import { chargeDirectCaller, createQrToken, getTicketInfo } from './routes/qr.ts';
import { currentDevice, redeemScan, scanningDevice } from './routes/venue.ts';

export default defineService<RedemptionContext>({
  name: 'redemption',
  schema: redemptionSchema.schemaName,
  port: (config) => config.REDEMPTION_PORT,
  migrations: migrationSet,
  outbox: true,
  context: (config, deps, kit) => {
    // Scanners call this port directly: its public routes are limited like the gateway's, in the same
    // Redis budgets, so a client has one budget whichever door it uses.
    const limiter = createRateLimiter(deps.redis, kit.app.log);
    kit.addReadinessCheck('rate_limit', async () => {
      if (limiter.mode() === 'fallback') {
        throw new Error('Redis unreachable: limits enforced per instance in memory (fallback)');
      }
    });
    kit.onClose(() => limiter.close());
    return {
      config,
      pool: deps.pool,
      source: issuanceTicketSource(kit.commands),
      relay: kit.relay,
      budgets: createClientBudgets(limiter, config),
      deviceKeys: new DeviceKeys(deps.pool),
      metrics: createRedemptionMetrics(kit.metrics),
    };
  },
  routes: [
    route(createQrTokenRoute, createQrToken),
    route(ticketInfoRoute, getTicketInfo, { onRequest: chargeDirectCaller }),
    route(redeemRoute, redeemScan, { authenticate: scanningDevice }),
    route(currentDeviceRoute, currentDevice, { authenticate: scanningDevice }),
    idempotentRoute(createDeviceRoute, createDevice, {
      sealed: { fields: ['device_key'], purpose: 'redemption:idempotent-device-keys' },
    }),
    route(listDevicesRoute, getDevices),
    route(updateDeviceRoute, updateDevice),
    route(revokeDeviceRoute, removeDevice),
  ],
  consumers: [
    consumer({
      durable: 'redemption',
      filter: 'events.issuance.>',
      events: TICKET_EVENTS,
      handle: projectTickets,
    }),
  ],
  jobs: [job({ name: 'purge-retry-records', every: '1h', run: purgeRetryRecords })],
});
