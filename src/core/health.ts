/** The database's part of a health check, implemented under db/ (SqliteHealthStore). */
export interface HealthStore {
  /** Resolves when the database answers a trivial query; rejects when it cannot (closed, unreadable). */
  ping(): Promise<void>;
}

export type DatabaseHealth = 'ok' | 'error';

/** What core can say about its own health, for /healthz. */
export class HealthService {
  constructor(private readonly store: HealthStore) {}

  /** `ok` when the database answers, `error` when it does not. */
  async checkDatabase(): Promise<DatabaseHealth> {
    try {
      await this.store.ping();
      return 'ok';
    } catch {
      return 'error';
    }
  }
}
