/**
 * The key/value `settings` table: small values the app keeps across restarts (today the generated
 * unsubscribe signing key). State with a shape gets its own table, never JSON here.
 */
export interface SettingsStore {
  /** The value under `key`; when there is none, `candidate` is stored first (the first one stored wins, across processes). */
  getOrCreate(key: string, candidate: string): Promise<string>;
}
