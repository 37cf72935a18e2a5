/**
 * Topics (docs/topics.md): named lists of subscribers that one call fans a campaign out to.
 */

/** A topic's key: a slug, since it is part of URLs and of the runs' audience id (`topic:<key>`). */
export const TOPIC_KEY_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const TOPIC_KEY_MAX_LENGTH = 128;

/** Subscribers one JSON call adds; more go as an NDJSON stream on the same route. */
export const MAX_SUBSCRIBERS_PER_CALL = 1000;

/**
 * What a topic execution records as its audience: it runs as an audience execution (the same
 * workflow, batches, status and counts), and this names where its members came from. The prefix
 * keeps it apart from audience ids (ULIDs), so deleting an audience never finds a topic's run.
 */
export const topicRunAudienceId = (key: string) => `topic:${key}`;
