import { randomFillSync } from 'node:crypto';
import { monotonicFactory, ulid as plainUlid, type ULIDFactory } from 'ulid';

/**
 * Why not ulid's own randomness: it asks the system for one byte per character (16 calls of
 * getRandomValues per id), which on the high-throughput accept path was about 5% of the API's CPU
 * (issue 23's profile). This draws the same cryptographic bytes a pool at a time.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let next = POOL_BYTES;

/** ulid's PRNG contract: a number in [0, 1), here from one cryptographically random byte. */
export function pooledRandom(): number {
  if (next >= POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** Monotonic ULIDs (sortable, unique within the process even in one millisecond) from the pooled bytes. */
export function ulidFactory(): ULIDFactory {
  return monotonicFactory(pooledRandom);
}

/** One ULID, not monotonic. */
export function ulid(): string {
  return plainUlid(undefined, pooledRandom);
}
