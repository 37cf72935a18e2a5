import { sql } from 'kysely';
import type { HeraldDb } from '../db/database';
import { TRIAL_CLAIM_MS, type CircuitBreakerSettings, type CircuitState } from '../domain/provider-failover';

/** What the breaker lets one send do now. */
export type CircuitPermit =
  /** Closed: send. `failures` tells whether a success has a count to reset. */
  | { kind: 'closed'; failures: number }
  /** This send is the one trial of a circuit whose open time is over: its outcome closes or reopens it. */
  | { kind: 'trial' }
  /** Open (or another worker holds the trial): skip to the fallback without calling the provider. */
  | { kind: 'open'; openUntil: string | null };

export interface CircuitView {
  circuit: CircuitState;
  consecutiveFailures: number;
  /** When an open circuit lets its trial send through; null unless open. */
  openUntil: string | null;
}

/**
 * The circuit breakers of channel configurations, one row each in Herald's database, so every
 * worker on the database shares them (ADR 0009): five workers do not each need five failures
 * before they stop calling a provider that is down. Every transition is one conditional UPDATE,
 * so exactly one worker opens a circuit, claims its trial or closes it, and only that worker
 * reports the change. Times come from the caller (`now`), so tests move the clock, not the wall.
 *
 * A configuration without a row is closed with no failures: a healthy provider costs one read
 * per send and no write.
 */
export class ProviderCircuitRepository {
  constructor(private readonly db: HeraldDb) {}

  async view(configurationId: string, now: Date): Promise<CircuitView> {
    const row = await this.db.selectFrom('provider_circuits').selectAll().where('configuration_id', '=', configurationId).executeTakeFirst();
    if (!row) return { circuit: 'closed', consecutiveFailures: 0, openUntil: null };
    // An open circuit whose time is over is half-open: its next send is the trial.
    const circuit = row.state === 'open' && row.open_until !== null && row.open_until <= now.toISOString() ? 'half-open' : row.state;
    return { circuit, consecutiveFailures: row.consecutive_failures, openUntil: row.state === 'open' ? row.open_until : null };
  }

  /** The circuit's state as a send would find it, claiming nothing (an open circuit past its time reads half-open). */
  async peek(configurationId: string, now: Date): Promise<CircuitState> {
    return (await this.view(configurationId, now)).circuit;
  }

  /** Whether a send may call this configuration's provider now; claims the trial when the open time is over. */
  async permit(configurationId: string, now: Date): Promise<CircuitPermit> {
    const row = await this.db.selectFrom('provider_circuits').selectAll().where('configuration_id', '=', configurationId).executeTakeFirst();
    if (!row || row.state === 'closed') return { kind: 'closed', failures: row?.consecutive_failures ?? 0 };
    const at = now.toISOString();
    if (row.state === 'open') {
      if (row.open_until !== null && row.open_until > at) return { kind: 'open', openUntil: row.open_until };
      const claimed = await this.db
        .updateTable('provider_circuits')
        .set({ state: 'half-open', trial_started_at: at, updated_at: at })
        .where('configuration_id', '=', configurationId)
        .where('state', '=', 'open')
        .where('open_until', '<=', at)
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1 ? { kind: 'trial' } : { kind: 'open', openUntil: null };
    }
    // Half-open: another send holds the trial, unless it was claimed so long ago that its worker is gone.
    const stale = new Date(now.getTime() - TRIAL_CLAIM_MS).toISOString();
    if (row.trial_started_at !== null && row.trial_started_at > stale) return { kind: 'open', openUntil: null };
    const reclaimed = await this.db
      .updateTable('provider_circuits')
      .set({ trial_started_at: at, updated_at: at })
      .where('configuration_id', '=', configurationId)
      .where('state', '=', 'half-open')
      .where((eb) => (row.trial_started_at === null ? eb('trial_started_at', 'is', null) : eb('trial_started_at', '=', row.trial_started_at)))
      .executeTakeFirst();
    return Number(reclaimed.numUpdatedRows) === 1 ? { kind: 'trial' } : { kind: 'open', openUntil: null };
  }

  /**
   * Counts a retryable failure. Answers true when this failure opened the circuit: the count
   * reached the threshold of a closed circuit, or the trial of a half-open one failed.
   */
  async recordFailure(configurationId: string, settings: CircuitBreakerSettings, now: Date): Promise<boolean> {
    const at = now.toISOString();
    await this.db
      .insertInto('provider_circuits')
      .values({ configuration_id: configurationId, state: 'closed', consecutive_failures: 1, open_until: null, trial_started_at: null, updated_at: at })
      .onConflict((oc) =>
        oc.column('configuration_id').doUpdateSet({ consecutive_failures: sql<number>`provider_circuits.consecutive_failures + 1`, updated_at: at }),
      )
      .execute();
    const openUntil = new Date(now.getTime() + settings.openSeconds * 1000).toISOString();
    const opened = await this.db
      .updateTable('provider_circuits')
      .set({ state: 'open', open_until: openUntil, trial_started_at: null, updated_at: at })
      .where('configuration_id', '=', configurationId)
      .where((eb) => eb.or([eb.and([eb('state', '=', 'closed'), eb('consecutive_failures', '>=', settings.failureThreshold)]), eb('state', '=', 'half-open')]))
      .executeTakeFirst();
    return Number(opened.numUpdatedRows) === 1;
  }

  /**
   * Counts a success: the trial's closes a half-open circuit (answers true: it closed), a closed
   * circuit's resets its failure count. A success while open (a send that started before the
   * circuit opened) changes nothing: the trial decides.
   */
  async recordSuccess(configurationId: string, permit: CircuitPermit, now: Date): Promise<boolean> {
    const at = now.toISOString();
    if (permit.kind === 'closed') {
      if (permit.failures > 0) {
        await this.db
          .updateTable('provider_circuits')
          .set({ consecutive_failures: 0, updated_at: at })
          .where('configuration_id', '=', configurationId)
          .where('state', '=', 'closed')
          .execute();
      }
      return false;
    }
    const closed = await this.db
      .updateTable('provider_circuits')
      .set({ state: 'closed', consecutive_failures: 0, open_until: null, trial_started_at: null, updated_at: at })
      .where('configuration_id', '=', configurationId)
      .where('state', '=', 'half-open')
      .executeTakeFirst();
    return Number(closed.numUpdatedRows) === 1;
  }

  /** Forgets a deleted configuration's breaker. */
  async forget(configurationId: string): Promise<void> {
    await this.db.deleteFrom('provider_circuits').where('configuration_id', '=', configurationId).execute();
  }
}
