import type { HeraldConfig } from '../../config/env';

/**
 * What the OpenAPI document says about Herald as a whole: the server a sample can be run
 * against (HERALD_PUBLIC_URL, else the address the API listens on) and a quick start a new
 * user can follow from the docs page alone. The operations come from the routes.
 */
export function openApiDocumentConfig(config: Pick<HeraldConfig, 'publicUrl'>) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald API',
      version: '0.1.0',
      description: quickStart(config.publicUrl),
    },
    servers: [{ url: config.publicUrl, description: 'This Herald (HERALD_PUBLIC_URL)' }],
  };
}

function quickStart(baseUrl: string): string {
  return `API-triggered campaigns on Temporal: define a campaign once, activate it, then trigger it from your own systems whenever a message is due. Errors are \`application/problem+json\` (RFC 9457).

## Quick start

Every call below can be pasted into a shell. With \`HERALD_API_KEYS\` set, add \`-H "authorization: Bearer $HERALD_API_KEY"\`; a local \`npm start\` without keys needs none.

**1. Create a campaign** (a draft), and keep its \`id\`:

\`\`\`sh
curl -s ${baseUrl}/v1/campaigns -H 'content-type: application/json' -d '{
  "name": "Password reset", "type": "transactional", "channel": "email",
  "content": { "subject": "Reset your password", "html": "<p>Your code is <b>{{ context.code }}</b>.</p>" },
  "audience": { "namespace": "email", "createMissingProfiles": true }
}'
CAMPAIGN=01K…   # the id from the answer
\`\`\`

**2. Activate it**: the review runs, then the campaign is \`live\`.

\`\`\`sh
curl -s -X POST ${baseUrl}/v1/campaigns/$CAMPAIGN/activate
\`\`\`

**3. Trigger it** for one to twenty recipients. The \`requestId\` is the idempotency key: send the same call again and you get the same execution, marked \`Idempotency-Replay: true\`, never a second message.

\`\`\`sh
curl -s ${baseUrl}/v1/executions/unitary -H 'content-type: application/json' -d '{
  "requestId": "reset-0001", "campaignId": "'$CAMPAIGN'",
  "recipients": [{ "userId": "ada@example.com", "namespace": "email", "context": { "code": "4711" } }]
}'
\`\`\`

**4. Read its status**, with every recipient's outcome:

\`\`\`sh
curl -s ${baseUrl}/v1/executions/<executionId>
\`\`\`

From TypeScript, the typed client \`@herald/client\` (in \`sdk/typescript\` of the repository) does the same, and retries a trigger safely: see the sample on *Trigger a campaign for 1–20 recipients*.`;
}
