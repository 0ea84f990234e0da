import { randomBytes } from 'node:crypto';
import type { SettingsStore } from '../settings-store.js';

const secretKey = 'unsubscribe_secret';

/**
 * The keys that sign unsubscribe links: UNSUBSCRIBE_SECRET when set (it signs), plus the key
 * generated and stored in the database on first use, so links keep working across restarts.
 * Read once, then kept.
 */
export class UnsubscribeKeys {
  private keys: Promise<string[]> | undefined;
  constructor(
    private readonly store: SettingsStore,
    private readonly configured: string | undefined,
  ) {}

  /** Every key that verifies a link; the first one signs. */
  all(): Promise<string[]> {
    this.keys ??= this.load().catch((e: unknown) => {
      this.keys = undefined; // a failed read is tried again by the next caller
      throw e;
    });
    return this.keys;
  }

  /** The key that signs new links. */
  async signing(): Promise<string> {
    return (await this.all())[0]!;
  }

  private async load(): Promise<string[]> {
    const stored = await this.store.getOrCreate(secretKey, randomBytes(32).toString('base64url'));
    return this.configured ? [this.configured, stored] : [stored];
  }
}
