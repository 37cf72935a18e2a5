import { OpenAPIHono } from '@hono/zod-openapi';
import { validationProblem, zodIssuesToFieldErrors } from './problem';

/** Every router turns schema violations into the same 400 problem. */
export function createRouter() {
  return new OpenAPIHono({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationProblem(zodIssuesToFieldErrors(result.error.issues));
    },
  });
}
