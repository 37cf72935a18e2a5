/**
 * The circuit breaker's shared state (src/repositories/provider-circuits.ts) on a real database:
 * SQLite, or PostgreSQL on the PostgreSQL suite, where workers on several machines race on the
 * same row. Each transition is one conditional UPDATE, so however many sends fail or reach the
 * end of the open time at once, one opens the circuit, one holds the trial, one closes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, type HeraldDb } from '../../src/db/database';
import { ProviderCircuitRepository } from '../../src/repositories/provider-circuits';
import { freshDatabase } from './support/fresh-database';

const settings = { failureThreshold: 5, openSeconds: 30 };

describe('ProviderCircuitRepository', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let db: HeraldDb;
  let circuits: ProviderCircuitRepository;
  const t0 = Date.parse('2026-12-07T12:00:00.000Z');
  const at = (ms: number) => new Date(t0 + ms);

  beforeAll(async () => {
    db = await freshDatabase(cleanups, 'circuits');
    await migrateToLatest(db);
    circuits = new ProviderCircuitRepository(db);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('a configuration never seen is closed, and a send may go', async () => {
    expect(await circuits.view('c-new', at(0))).toEqual({ circuit: 'closed', consecutiveFailures: 0, openUntil: null });
    expect(await circuits.permit('c-new', at(0))).toEqual({ kind: 'closed', failures: 0 });
  });

  it('twenty failures at once open it exactly once', async () => {
    const opened = await Promise.all(Array.from({ length: 20 }, () => circuits.recordFailure('c-race', settings, at(0))));
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(await circuits.view('c-race', at(1_000))).toEqual({ circuit: 'open', consecutiveFailures: 20, openUntil: at(30_000).toISOString() });
    expect(await circuits.permit('c-race', at(29_999))).toMatchObject({ kind: 'open' });
  });

  it('after the open time, of twenty sends at once exactly one is the trial', async () => {
    const permits = await Promise.all(Array.from({ length: 20 }, () => circuits.permit('c-race', at(30_000))));
    expect(permits.filter((p) => p.kind === 'trial')).toHaveLength(1);
    expect(await circuits.view('c-race', at(30_001))).toMatchObject({ circuit: 'half-open' });
  });

  it('a trial whose worker died is claimed again after a minute', async () => {
    expect(await circuits.permit('c-race', at(60_000))).toMatchObject({ kind: 'open' });
    expect(await circuits.permit('c-race', at(90_001))).toEqual({ kind: 'trial' });
  });

  it("the trial's success closes it once; a success while closed resets the count", async () => {
    const closed = await Promise.all([
      circuits.recordSuccess('c-race', { kind: 'trial' }, at(90_500)),
      circuits.recordSuccess('c-race', { kind: 'trial' }, at(90_500)),
    ]);
    expect(closed.filter(Boolean)).toHaveLength(1);
    expect(await circuits.view('c-race', at(90_600))).toEqual({ circuit: 'closed', consecutiveFailures: 0, openUntil: null });
    await circuits.recordFailure('c-race', settings, at(91_000));
    expect((await circuits.view('c-race', at(91_000))).consecutiveFailures).toBe(1);
    await circuits.recordSuccess('c-race', await circuits.permit('c-race', at(92_000)), at(92_000));
    expect((await circuits.view('c-race', at(92_000))).consecutiveFailures).toBe(0);
  });

  it('a failed trial reopens it for a new open time; forget removes it', async () => {
    for (let i = 0; i < 5; i++) await circuits.recordFailure('c-trial', settings, at(0));
    expect(await circuits.permit('c-trial', at(30_000))).toEqual({ kind: 'trial' });
    expect(await circuits.recordFailure('c-trial', settings, at(30_500))).toBe(true);
    expect(await circuits.view('c-trial', at(30_600))).toMatchObject({ circuit: 'open', openUntil: at(60_500).toISOString() });
    await circuits.forget('c-trial');
    expect((await circuits.view('c-trial', at(30_600))).circuit).toBe('closed');
  });
});
