import type { HealthStore } from '../../core/health.js';
import type { PgDb } from './client.js';

/** The Postgres HealthStore: `SELECT 1` on a connection of the pool (rejects when the server does not answer, or the pool is closed). */
export class PgHealthStore implements HealthStore {
  constructor(private readonly db: PgDb) {}

  async ping(): Promise<void> {
    await this.db.$client.query('SELECT 1');
  }
}
