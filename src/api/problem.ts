import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ProblemFieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem. `type` is a stable slug clients can switch on. */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: ProblemFieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  toJSON() {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail && { detail: this.detail }),
      ...(this.errors && { errors: this.errors }),
    };
  }
}

export function problemResponse(c: Context, problem: Problem): Response {
  return c.body(JSON.stringify(problem.toJSON()), problem.status, { 'content-type': 'application/problem+json', ...problem.headers });
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'validation-failed' }),
    title: z.string().openapi({ example: 'The request is invalid' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** Declares a problem response in a route's OpenAPI entry. */
export const problemContent = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/**
 * A union that matched no option (content given flat or multilingual) reports the issues of the
 * option that got furthest into the value (the deepest path; the first option on a tie), under the
 * union's own path, rather than a bare "Invalid input".
 */
function flattenUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  // Nested unions (email or SMS content, each flat or multilingual) are flattened first. The
  // option whose shape fits best wins: the fewest missing fields and unknown keys (an SMS body is
  // not reported as an email without html), then the deepest issue.
  const branches = issue.errors.map((branch) =>
    branch.flatMap((inner) => flattenUnion({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue)),
  );
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(-1, ...branch.map((i) => i.path.length));
  const misfits = (branch: z.core.$ZodIssue[]) =>
    branch.filter((i) => i.code === 'unrecognized_keys' || (i.code === 'invalid_type' && /received undefined$/.test(i.message))).length;
  const better = (a: z.core.$ZodIssue[], b: z.core.$ZodIssue[]) => misfits(b) < misfits(a) || (misfits(b) === misfits(a) && depth(b) > depth(a));
  const best = branches.reduce((a, b) => (better(a, b) ? b : a));
  if (best.length === 0) return [issue];
  return best;
}

export function zodIssuesToFieldErrors(issues: readonly z.core.$ZodIssue[]): ProblemFieldError[] {
  return issues.flatMap(flattenUnion).map((issue) => ({ field: issue.path.map(String).join('.') || '(body)', message: issue.message }));
}

export const validationProblem = (errors: ProblemFieldError[], detail = 'The request does not match the API schema; see errors.') =>
  new Problem(400, 'validation-failed', 'The request is invalid', detail, errors);

export const notFoundProblem = (what: string) => new Problem(404, 'not-found', 'Not found', `${what} does not exist`);

const header = (description: string) => ({ description, schema: { type: 'integer' as const } });

/** Responses every /v1 route can give: authentication, authorization and rate limiting. */
export const v1Responses = {
  401: problemContent('Missing or wrong API key (a missing one only when HERALD_API_KEYS is set)'),
  403: problemContent("The API key's scope does not allow this call (type forbidden)"),
  429: {
    ...problemContent(
      'Over the per-key rate limit (HERALD_RATE_LIMIT, default 500 calls/s), or too many failed authentications from this address (HERALD_AUTH_FAILURE_LIMIT per minute)',
    ),
    headers: {
      'Retry-After': header('Seconds to wait before retrying'),
      'RateLimit-Limit': header('Calls allowed per second for this key'),
      'RateLimit-Remaining': header('Calls left in the current window'),
      'RateLimit-Reset': header('Seconds until the bucket is full again'),
    },
  },
  503: {
    ...problemContent('Temporal or the database is briefly unavailable; retry the same call (same requestId)'),
    headers: { 'Retry-After': header('Seconds to wait before retrying') },
  },
};
