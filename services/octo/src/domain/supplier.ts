// The supplier OCTO resellers see: the cruise operator itself.
import type { zSupplier } from '@octocloud/types';

export type OctoSupplier = ReturnType<typeof zSupplier.parse>;

export function supplierOf(endpoint: string): OctoSupplier {
  return {
    id: 'cruise',
    name: 'Cruise ticketing',
    endpoint,
    contact: { website: null, email: null, telephone: null, address: null },
  };
}
