import type { Db } from '../src/db/client.js';

/** Every `table.column` in the database holding a text value that contains `needle` (case-insensitive). */
export function rowsMentioning(db: Db, needle: string): string[] {
  const sqlite = db.$client;
  const tables = sqlite
    .prepare<[], { name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'`,
    )
    .all();
  const hits: string[] = [];
  for (const { name } of tables) {
    for (const row of sqlite.prepare<[], Record<string, unknown>>(`SELECT * FROM "${name}"`).all()) {
      for (const [col, v] of Object.entries(row))
        if (typeof v === 'string' && v.toLowerCase().includes(needle.toLowerCase()))
          hits.push(`${name}.${col}`);
    }
  }
  return hits;
}
