/** What a snapshot's check found in the copy. */
export type SnapshotCheck = {
  /** `ok`, or what integrity_check reported. */
  integrity: string;
  foreignKeyProblems: number;
  batches: number;
  contacts: number;
};

/** The database's side of a backup: a consistent copy taken while the app keeps working. */
export interface BackupStore {
  /**
   * Copies a consistent snapshot of the live database into `target` (an empty file, whose mode
   * the copy keeps), then checks the copy; resolves with what the check found.
   */
  snapshot(target: string): Promise<SnapshotCheck>;
}
