import type { HealthStore } from '../../core/health.js';
import type { Sqlite } from '../client.js';

/** The SQLite HealthStore: `SELECT 1` on the app's connection (throws once it is closed). */
export class SqliteHealthStore implements HealthStore {
  private readonly select;

  constructor(sqlite: Sqlite) {
    this.select = sqlite.prepare('SELECT 1');
  }

  async ping(): Promise<void> {
    this.select.get();
  }
}
