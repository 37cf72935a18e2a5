import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DomainError, DomainErrorKind } from '../domain/errors';
import { Problem } from './problem';

const STATUS: Record<DomainErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unprocessable: 422,
};

/** The HTTP answer to a refusal from the services. */
export function domainErrorProblem(error: DomainError): Problem {
  return new Problem(STATUS[error.kind], error.code, error.title, error.detail, error.issues);
}
