/**
 * Hand-written samples shown next to the generated ones on the docs page (`x-codeSamples`, read
 * by Scalar and Redoc): the typed client beside curl for the call developers make most. They
 * are written against the server the document declares, so each one runs as pasted.
 */
interface CodeSample {
  lang: string;
  label: string;
  source: string;
}

function triggerSamples(baseUrl: string): CodeSample[] {
  return [
    {
      lang: 'TypeScript',
      label: '@herald/client',
      source: `import { createHeraldClient } from '@herald/client';

const herald = createHeraldClient({
  baseUrl: '${baseUrl}',
  apiKey: process.env.HERALD_API_KEY,
});

// Without a requestId the client makes one up and
// keeps it across its retries (429, 503, network
// errors): a retry never sends twice.
const { executionId, replayed } = await herald.trigger({
  campaignId: '01K…',
  recipients: [{
    userId: 'ada@example.com',
    namespace: 'email',
    context: { code: '4711' },
  }],
});

const { data } = await herald.GET('/v1/executions/{executionId}', {
  params: { path: { executionId } },
});
console.log(data?.status, data?.counts, { replayed });`,
    },
    {
      lang: 'Shell',
      label: 'curl',
      source: `curl -s ${baseUrl}/v1/executions/unitary \\
  -H "authorization: Bearer $HERALD_API_KEY" \\
  -H 'content-type: application/json' \\
  -d '{
  "requestId": "reset-0001",
  "campaignId": "01K…",
  "recipients": [{ "userId": "ada@example.com", "namespace": "email", "context": { "code": "4711" } }]
}'`,
    },
  ];
}

const SAMPLES: Record<string, Record<string, (baseUrl: string) => CodeSample[]>> = {
  '/v1/executions/unitary': { post: triggerSamples },
};

/** Adds the samples to their operations, in place, and returns the document. */
export function withCodeSamples<D extends { paths?: object }>(document: D, baseUrl: string): D {
  const paths = (document.paths ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [path, operations] of Object.entries(SAMPLES)) {
    for (const [method, samples] of Object.entries(operations)) {
      const operation = paths[path]?.[method];
      if (operation && typeof operation === 'object') Object.assign(operation, { 'x-codeSamples': samples(baseUrl) });
    }
  }
  return document;
}
