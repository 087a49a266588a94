// Every service's migrations, in dependency-free order (each service owns one schema).
import { migrationSet as gateway } from '@cruise/gateway';
import { migrationSet as inventory } from '@cruise/inventory';
import { migrationSet as issuance } from '@cruise/issuance';
import { migrationSet as notifications } from '@cruise/notifications';
import { migrationSet as octo } from '@cruise/octo';
import { migrationSet as redemption } from '@cruise/redemption';

export const migrationSets = [gateway, inventory, issuance, redemption, notifications, octo];
