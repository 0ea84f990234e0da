import type { SettingsStore } from '../../core/settings-store.js';
import { inTransaction, type PgDb, row } from './client.js';

/** The settings table over Postgres. */
export class PgSettingsStore implements SettingsStore {
  constructor(private readonly db: PgDb) {}

  /**
   * Two statements, not one: when another instance stores the key at the same moment, the insert
   * waits for it and adds nothing, and only a statement started after that sees its value (a
   * single INSERT … RETURNING / SELECT would read the snapshot from before it and find nothing).
   */
  async getOrCreate(key: string, candidate: string): Promise<string> {
    return inTransaction(this.db.$client, async (tx) => {
      await tx.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        candidate,
      ]);
      const found = await row<{ value: string }>(tx, 'SELECT value FROM settings WHERE key = $1', [key]);
      if (!found) throw new Error(`settings: no value under ${key} after storing one`);
      return found.value;
    });
  }
}
