// What the gateway's handlers and plugins share (built once by the manifest's `context`).
import type { ClientBudgets, Config, Pool, RouteDef } from '@cruise/shared';
import type { AuditWriter } from './audit/audit-log.ts';
import type { KeyResolver } from './auth/credentials.ts';
import type { Upstreams } from './forwarding/upstreams.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface GatewayContext {
  config: Config;
  pool: Pool;
  /** The public route catalogue: the contract's `allRoutes` unless a test supplies its own. */
  routes: RouteDef[];
  /** Where the browser apps' builds are (`<dir>/<app>/dist`); the repository's apps/ when undefined. */
  appsDir: string | undefined;
  audit: AuditWriter;
  keys: KeyResolver;
  /** Called once a partner's keys, status or limit changed (committed), so cached key lookups are dropped. */
  keysChanged: (partnerId: string) => Promise<void>;
  metrics: GatewayMetrics;
  budgets: ClientBudgets;
  upstreams: Upstreams;
}

/** What a test (or the client generator) may pass to buildApp beyond logging. */
export interface GatewayAppOptions {
  routes?: RouteDef[];
  appsDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's cache of API-key lookups (tests look at whether its invalidation channel is live). */
    keyCache: KeyResolver;
  }
}
