import { sql, type SqlBool } from 'kysely';
import { channelRulesOf } from '../channels/registry';
import type { HeraldDb } from '../db/database';
import { readJson } from '../db/dialect';
import type { AddressHasher } from '../domain/address-hash';
import { CHANNELS, type Channel } from '../domain/campaign';
import { normaliseAddress } from '../domain/provider-feedback';
import { SuppressionRepository } from './suppressions';

/** What one erasure removed or rewrote, table by table (rows). */
export interface ErasureCounts {
  profiles: number;
  pushTokens: number;
  /** The person's preferences (docs/preferences.md): their row, or none. */
  preferences: number;
  audienceMemberships: number;
  /** Topic subscriptions deleted. */
  topicSubscriptions: number;
  /** In-app messages deleted from the person's inbox. */
  inboxMessages: number;
  /** Deliveries kept for the counts, with the person taken out (userId `erased:<position>`, no address, context or provider id). */
  deliveries: number;
  renderedMessages: number;
  outboxMessages: number;
  trackedLinks: number;
  trackingEvents: number;
  webhookEvents: number;
  /** Executions whose context (only this person's) was cleared, whose requestId named the person, or whose cancellationKey went. */
  executions: number;
  /** The person's waits in waitForEvent steps (the runs then time out). */
  eventWaits: number;
  /** Events received for the person with an eventId. */
  events: number;
  /** Suppressions of the person's addresses, now kept as keyed hashes. */
  suppressionsHashed: number;
  /** Audit entries that named the person (`<namespace>/<userId>`, `<channel>/<address>`), now naming the internal id or the hash. */
  auditEntries: number;
}

/** The person's addresses per channel, normalised: what suppressions and outbox rows are found by. */
export type PersonAddresses = Record<Channel, string[]>;

type DeliveryChild = 'rendered_messages' | 'tracked_links' | 'delivery_events' | 'feedback_events';

/**
 * Everything Herald holds about one profile key (namespace, userId), found and erased in the
 * transaction this repository is bound to (GDPR Art. 17). Rows that only exist for the person
 * are deleted; rows that also carry counts others rely on (deliveries: execution counts, report
 * folds, capping of nobody) are kept with the person taken out.
 */
export class ProfileErasureRepository {
  constructor(private readonly db: HeraldDb) {}

  /** The profile's own row: its internal id and attributes; undefined when there is none. */
  async profile(namespace: string, userId: string): Promise<{ id: string | null; attributes: Record<string, unknown> } | undefined> {
    const row = await this.db
      .selectFrom('profiles')
      .select(['id', 'attributes'])
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { id: row.id ?? null, attributes: readJson<Record<string, unknown>>(row.attributes) };
  }

  /**
   * The person's addresses, normalised, per channel: the profile's `email` and `phone` attributes,
   * the userId itself in the `email` and `phone` namespaces (as preparation resolves them), every
   * address its deliveries went to (channelData included), and its push tokens.
   */
  async addresses(namespace: string, userId: string, attributes: Record<string, unknown> | undefined): Promise<PersonAddresses> {
    const found = Object.fromEntries(CHANNELS.map((channel) => [channel, new Set<string>()])) as Record<Channel, Set<string>>;
    const add = (channel: Channel, raw: unknown) => {
      if (typeof raw !== 'string' || raw === '') return;
      const normalised = normaliseAddress(channelRulesOf(channel), raw);
      if (normalised !== undefined) found[channel].add(normalised);
    };
    add('email', attributes?.email);
    // A phone number is both an SMS and a WhatsApp address.
    add('sms', attributes?.phone);
    add('whatsapp', attributes?.phone);
    if (namespace === 'email') add('email', userId);
    if (namespace === 'phone') add('sms', userId);
    if (namespace === 'phone') add('whatsapp', userId);
    const sent = await this.db
      .selectFrom('deliveries')
      .select(['channel', 'address'])
      .distinct()
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .where('address', 'is not', null)
      .execute();
    for (const row of sent) add(row.channel, row.address);
    const tokens = await this.db.selectFrom('push_tokens').select('token').where('namespace', '=', namespace).where('user_id', '=', userId).execute();
    for (const row of tokens) add('push', row.token);
    return Object.fromEntries(CHANNELS.map((channel) => [channel, [...found[channel]]])) as PersonAddresses;
  }

  /** Whether anything at all is held about the key or its addresses (else the API answers 404). */
  async holdsAnything(namespace: string, userId: string, addresses: PersonAddresses): Promise<boolean> {
    for (const table of [
      'profiles',
      'push_tokens',
      'deliveries',
      'audience_members',
      'topic_subscriptions',
      'inbox_messages',
      'event_waits',
      'inbound_events',
    ] as const) {
      const row = await this.db
        .selectFrom(table)
        .select('user_id')
        .where('namespace', '=', namespace)
        .where('user_id', '=', userId)
        .limit(1)
        .executeTakeFirst();
      if (row) return true;
    }
    const named = await this.db
      .selectFrom('audit_log')
      .select('id')
      .where('resource_type', '=', 'profile')
      .where('resource_id', '=', `${namespace}/${userId}`)
      .limit(1)
      .executeTakeFirst();
    if (named) return true;
    for (const channel of CHANNELS) {
      if (addresses[channel].length === 0) continue;
      const listed = await this.db
        .selectFrom('suppressions')
        .select('address')
        .where('channel', '=', channel)
        .where('address', 'in', addresses[channel])
        .limit(1)
        .executeTakeFirst();
      if (listed) return true;
    }
    return false;
  }

  /** Erases the key's rows as the class describes; `hasher` makes the suppressions' hashes. */
  async erase(namespace: string, userId: string, profileId: string | null, addresses: PersonAddresses, hasher: AddressHasher): Promise<ErasureCounts> {
    const db = this.db;
    const deleted = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
    // The person's deliveries, matched from the child tables by (execution_id, position) before
    // the deliveries themselves are rewritten.
    const ofPersonsDelivery = (table: DeliveryChild) =>
      sql<SqlBool>`exists (select 1 from deliveries d where d.execution_id = ${sql.ref(`${table}.execution_id`)} and d.position = ${sql.ref(`${table}.position`)} and d.namespace = ${namespace} and d.user_id = ${userId})`;
    const deleteChildren = async (table: DeliveryChild) => deleted(await db.deleteFrom(table).where(ofPersonsDelivery(table)).executeTakeFirst());

    const deliveries = await db
      .selectFrom('deliveries')
      .select(['execution_id', 'position', 'reason'])
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .execute();
    const executionIds = [...new Set(deliveries.map((d) => d.execution_id))];
    // Strings that name the person, scrubbed from free text Herald keeps (failure reasons, request ids).
    const names = [userId, ...addresses.email, ...addresses.sms].filter((name) => name.length > 0);
    const naming = (text: string | null) => text !== null && names.some((name) => text.includes(name));

    const renderedMessages = await deleteChildren('rendered_messages');
    const trackedLinks = await deleteChildren('tracked_links');
    const trackingEvents = await deleteChildren('delivery_events');
    // Feedback events carry only (execution, position) and are joined with the delivery when a
    // webhook posts them; a clicked URL in `detail` may name the person. Those not yet posted
    // would go out about `erased:<position>`: they go too.
    const webhookEvents = await deleteChildren('feedback_events');

    let outboxMessages = 0;
    let executions = 0;
    for (let i = 0; i < executionIds.length; i += 500) {
      const chunk = executionIds.slice(i, i + 500);
      outboxMessages += deleted(await db.deleteFrom('outbox').where('execution_id', 'in', chunk).where('user_id', '=', userId).executeTakeFirst());
      // The trigger's context is the person's alone when nobody else was in the execution; a
      // running execution still renders from it and is left alone.
      const shared = await db
        .selectFrom('deliveries')
        .select('execution_id')
        .distinct()
        .where('execution_id', 'in', chunk)
        .where((eb) => eb.or([eb('namespace', '!=', namespace), eb('user_id', '!=', userId)]))
        .execute();
      const others = new Set(shared.map((row) => row.execution_id));
      const rows = await db.selectFrom('executions').select(['id', 'request_id', 'context', 'status', 'cancellation_key']).where('id', 'in', chunk).execute();
      for (const row of rows) {
        const clearContext = row.context !== null && !others.has(row.id) && row.status !== 'running';
        const renameRequest = naming(row.request_id);
        // The caller's cancellationKey may name the person. It goes with the person's own runs, a
        // running one too (nothing of theirs is left to cancel); a run shared with others keeps
        // it, so their waits can still be cancelled, unless it names the person.
        const clearCancellationKey = row.cancellation_key !== null && (!others.has(row.id) || naming(row.cancellation_key));
        if (!clearContext && !renameRequest && !clearCancellationKey) continue;
        await db
          .updateTable('executions')
          .set({
            ...(clearContext && { context: null }),
            ...(renameRequest && { request_id: `erased:${row.id}` }),
            ...(clearCancellationKey && { cancellation_key: null }),
          })
          .where('id', '=', row.id)
          .execute();
        executions++;
      }
    }

    // Free-text reasons that quote an address (a provider's error) lose it first, row by row (rare).
    for (const delivery of deliveries.filter((d) => naming(d.reason))) {
      let reason = delivery.reason!;
      for (const name of names) reason = reason.split(name).join('[erased]');
      await db.updateTable('deliveries').set({ reason }).where('execution_id', '=', delivery.execution_id).where('position', '=', delivery.position).execute();
    }
    // One statement for the rest: the key becomes `erased:<position>` (unique in its execution,
    // as the primary key needs), and the address, provider message id and contexts go.
    const rewritten = await db
      .updateTable('deliveries')
      .set((eb) => ({
        user_id: sql<string>`${'erased:'} || cast(${eb.ref('position')} as text)`,
        address: null,
        message_id: null,
        context: null,
        channel_data: null,
      }))
      .where('namespace', '=', namespace)
      .where('user_id', '=', userId)
      .executeTakeFirst();

    const pushTokens = deleted(await db.deleteFrom('push_tokens').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());
    const preferences = deleted(await db.deleteFrom('profile_preferences').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());
    const audienceMemberships = deleted(
      await db.deleteFrom('audience_members').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst(),
    );
    const topicSubscriptions = deleted(
      await db.deleteFrom('topic_subscriptions').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst(),
    );
    const inboxMessages = deleted(await db.deleteFrom('inbox_messages').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());
    const profiles = deleted(await db.deleteFrom('profiles').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());
    // A run waiting in a waitForEvent step for the person loses its wait row, so POST /v1/events
    // reaches it no more: the wait's timer in the workflow ends it as a timeout (ifTimeout).
    const eventWaits = deleted(await db.deleteFrom('event_waits').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());
    // Events received with an eventId: a repeat of one of them is then taken as a new event.
    const events = deleted(await db.deleteFrom('inbound_events').where('namespace', '=', namespace).where('user_id', '=', userId).executeTakeFirst());

    // Suppressed addresses stay suppressed, as hashes; the audit entries that named them follow.
    const suppressions = new SuppressionRepository(db, hasher);
    let suppressionsHashed = 0;
    let auditEntries = 0;
    for (const channel of CHANNELS) {
      suppressionsHashed += await suppressions.hashAddresses(channel, addresses[channel]);
      for (const address of addresses[channel]) {
        const renamed = await db
          .updateTable('audit_log')
          .set({ resource_id: `${channel}/${hasher.hash(channel, address)}` })
          .where('resource_type', '=', 'suppression')
          .where('resource_id', '=', `${channel}/${address}`)
          .executeTakeFirst();
        auditEntries += Number(renamed.numUpdatedRows);
      }
    }
    // Entries written before profiles had an internal id named them `<namespace>/<userId>`.
    const renamed = await db
      .updateTable('audit_log')
      .set({ resource_id: profileId ?? 'erased' })
      .where('resource_type', '=', 'profile')
      .where('resource_id', '=', `${namespace}/${userId}`)
      .executeTakeFirst();
    auditEntries += Number(renamed.numUpdatedRows);

    return {
      profiles,
      pushTokens,
      preferences,
      audienceMemberships,
      topicSubscriptions,
      inboxMessages,
      deliveries: Number(rewritten.numUpdatedRows),
      renderedMessages,
      outboxMessages,
      trackedLinks,
      trackingEvents,
      webhookEvents,
      executions,
      eventWaits,
      events,
      suppressionsHashed,
      auditEntries,
    };
  }
}
