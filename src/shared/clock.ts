/** Time as epoch milliseconds; injected so that tests control it without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
