export { buildApp, type GatewayAppOptions } from './app.ts';
export { migrationSet } from './db/migrations.ts';
export { DEMO_PARTNER_NAME, seedDemoPartner } from './domain/partners.ts';
export { buildOpenApiDocument, documentationGaps } from './openapi/document.ts';
