import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/openapi.js';
import { retryingFetch, type Fetch, type RetryOptions } from './retrying-fetch.js';
import { TriggerNotAnsweredError, TriggerRejectedError } from './trigger-errors.js';

export interface HeraldClientOptions {
  /** Where the API is, e.g. http://127.0.0.1:3000 (HERALD_PUBLIC_URL of the deployment). */
  baseUrl: string;
  /** An API key (HERALD_API_KEYS or one made with POST /v1/api-keys), sent as a bearer token. Leave it out for an open loopback API. */
  apiKey?: string;
  /** How long and how calls are retried (see retry-policy.ts for which ones); `false` sends every call once. */
  retry?: RetryOptions | false;
  /** The fetch to send requests with; globalThis.fetch by default. */
  fetch?: Fetch;
}

type Schemas = components['schemas'];

/** A trigger body whose requestId may be left out: the client makes one up and keeps it across retries. */
export type TriggerInput = Omit<Schemas['UnitaryTrigger'], 'requestId'> & { requestId?: string };
export type AudienceTriggerInput = Omit<Schemas['AudienceTrigger'], 'requestId'> & { requestId?: string };

/** What the server accepted, with the requestId sent, and whether it answered a repeat (`Idempotency-Replay: true`). */
export type Replayable<Accepted> = Accepted & { requestId: string; replayed: boolean };
export type TriggerResult = Replayable<Schemas['ExecutionAccepted']>;
export type AudienceTriggerResult = Replayable<Schemas['AudienceExecutionAccepted'] | Schemas['AudienceExecutionScheduled']>;

export interface TriggerCallOptions {
  /** Aborts the call and its retries. */
  signal?: AbortSignal;
}

export type HeraldClient = Client<paths> & {
  /**
   * POST /v1/executions/unitary, safe to retry: the same requestId on every attempt. Resolves
   * with the accepted execution; throws TriggerRejectedError for a problem answer and
   * TriggerNotAnsweredError when no answer came, both with the requestId to send again with.
   */
  trigger(input: TriggerInput, options?: TriggerCallOptions): Promise<TriggerResult>;
  /** POST /v1/executions/audience, safe to retry like `trigger`: a run that starts now, or a scheduled one. */
  triggerAudience(input: AudienceTriggerInput, options?: TriggerCallOptions): Promise<AudienceTriggerResult>;
};

/**
 * A client for every operation of Herald's OpenAPI document (types in generated/openapi.ts):
 * `client.GET('/v1/executions/{executionId}', { params: { path: { executionId } } })` answers
 * `{ data, error, response }`, and so on; plus `trigger` and `triggerAudience`.
 */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  const send: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: options.retry === false ? send : retryingFetch(send, options.retry),
  });
  if (options.apiKey !== undefined) client.use(bearerKey(options.apiKey));

  async function trigger(input: TriggerInput, callOptions: TriggerCallOptions = {}): Promise<TriggerResult> {
    // Made up once, before the first attempt: every retry of this call is the same call.
    const requestId = input.requestId ?? crypto.randomUUID();
    const { data, error, response } = await answered(
      requestId,
      client.POST('/v1/executions/unitary', { body: { ...input, requestId }, signal: callOptions.signal }),
    );
    if (!data) throw new TriggerRejectedError(requestId, response.status, error, response);
    return { ...data, requestId, replayed: isReplay(response) };
  }

  async function triggerAudience(input: AudienceTriggerInput, callOptions: TriggerCallOptions = {}): Promise<AudienceTriggerResult> {
    const requestId = input.requestId ?? crypto.randomUUID();
    const { data, error, response } = await answered(
      requestId,
      client.POST('/v1/executions/audience', { body: { ...input, requestId }, signal: callOptions.signal }),
    );
    if (!data) throw new TriggerRejectedError(requestId, response.status, error, response);
    return { ...data, requestId, replayed: isReplay(response) };
  }

  return Object.assign(client, { trigger, triggerAudience });
}

async function answered<T>(requestId: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw new TriggerNotAnsweredError(requestId, error);
  }
}

function bearerKey(apiKey: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${apiKey}`);
      return request;
    },
  };
}

const isReplay = (response: Response) => response.headers.get('Idempotency-Replay') === 'true';
