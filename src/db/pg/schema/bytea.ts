import { customType } from 'drizzle-orm/pg-core';

/** SQLite's `blob` (an address hash): Postgres `bytea`, read and written as a Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});
