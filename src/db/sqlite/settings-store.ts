import { eq } from 'drizzle-orm';
import type { SettingsStore } from '../../core/settings-store.js';
import type { Db } from '../client.js';
import { settings } from '../schema.js';

/** The settings table over SQLite. */
export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly db: Db) {}

  async getOrCreate(key: string, candidate: string): Promise<string> {
    return this.db.transaction((tx) => {
      tx.insert(settings).values({ key, value: candidate }).onConflictDoNothing().run();
      return tx.select().from(settings).where(eq(settings.key, key)).get()!.value;
    });
  }
}
