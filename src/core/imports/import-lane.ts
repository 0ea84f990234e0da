import type { QueuePosition } from './import-request.js';

/** A FIFO counting semaphore whose waiters may give up. */
export class Lane {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {
    this.free = size;
  }
  /** Null when a slot is free now, else where the caller would stand in the queue. */
  position(): QueuePosition | null {
    return this.free > 0 ? null : { running: this.size - this.free, ahead: this.waiting.length };
  }
  /** Resolves true with a slot, or false once `timeoutMs` passed without one (then it holds none). */
  acquire(timeoutMs?: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const granted = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const at = this.waiting.indexOf(granted);
              if (at >= 0) this.waiting.splice(at, 1);
              resolve(false);
            }, timeoutMs);
      this.waiting.push(granted);
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
