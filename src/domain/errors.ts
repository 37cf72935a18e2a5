/**
 * What a service can refuse, in domain terms. The API maps each kind to an HTTP status
 * (src/api/domain-error-problem.ts); nothing here knows about HTTP.
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'not-found' | 'conflict' | 'too-large' | 'unprocessable';

export interface FieldIssue {
  field: string;
  message: string;
}

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    /** A stable slug callers can switch on, e.g. `campaign-not-live`. */
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly issues?: FieldIssue[],
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new DomainError('not-found', 'not-found', 'Not found', `${what} does not exist`);

export const invalidRequest = (issues: FieldIssue[], detail = 'The request does not match the API schema; see errors.') =>
  new DomainError('invalid', 'validation-failed', 'The request is invalid', detail, issues);

export const forbidden = (detail: string) => new DomainError('forbidden', 'forbidden', 'Not allowed for this API key', detail);
