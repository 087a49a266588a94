// Once per test run: find PostgreSQL/Redis/NATS (local or testcontainers), build the migrated template
// database that every test file clones, and hand the addresses to the test files.
import { dropDatabase, prepareTemplate, resolveInfrastructure } from '@cruise/testkit';
import type { TestProject } from 'vitest/node';
import { migrationSets } from '../scripts/migration-sets.ts';

export default async function setup(project: TestProject) {
  const infra = await resolveInfrastructure();
  const template = await prepareTemplate(infra.databaseUrl, migrationSets);
  project.provide('testInfra', {
    databaseUrl: infra.databaseUrl,
    redisUrl: infra.redisUrl,
    natsUrl: infra.natsUrl,
    template,
  });
  return async () => {
    await dropDatabase(infra.databaseUrl, template);
    await infra.stop();
  };
}
