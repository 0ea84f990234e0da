import { defineConfig } from 'drizzle-kit';

/** The Postgres migrations (DATABASE_URL=postgres://…): `npm run db:generate:pg`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './drizzle/pg',
});
