/** The time source every service uses, so tests can set it. */
export type Clock = { now(): number };
export const systemClock: Clock = { now: () => Date.now() };
