import { z } from 'zod';
import { DEFAULT_SENDER_ENV_NAMES, envNameProblem } from '../domain/channel-configuration';

/** A comma list of environment variable names (never values), each one a provider credential may live in. */
const envNameList = (name: string) =>
  z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      for (const entry of (value ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)) {
        const problem = envNameProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: `${name} lists "${entry.slice(0, 130)}": ${problem}` });
      }
    })
    .transform((value) =>
      value === undefined
        ? undefined
        : [
            ...new Set(
              value
                .split(',')
                .map((item) => item.trim())
                .filter(Boolean),
            ),
          ],
    );

/** The provider credentials channel configurations may name, by the variables they live in. */
export const senderCredentialVariables = z.object({
  // Names only: the extra variables provider credentials live in (channel configurations name them).
  HERALD_SENDER_ENV: envNameList('HERALD_SENDER_ENV'),
  // Names only: which of them are set for the worker, so the API can review without holding the values.
  HERALD_SENDER_ENV_PRESENT: envNameList('HERALD_SENDER_ENV_PRESENT'),
});

export type SenderCredentialVariables = z.infer<typeof senderCredentialVariables>;

export interface SenderCredentialConfig {
  /**
   * Provider credentials that channel configurations name. The worker reads a named variable only
   * when it is one of `envNames` (RESEND_API_KEY and HERALD_SENDER_ENV), so a configuration can
   * never make it hand another variable to a provider.
   */
  sender: {
    envNames: string[];
    /** The values of those of `envNames` that are set. Secrets: never logged or returned. */
    secrets: Record<string, string>;
    /** HERALD_SENDER_ENV_PRESENT: the names set for the worker, as the supervisor or the operator tells the API; undefined when unset. */
    presentInWorker?: string[];
  };
}

/** `env` is the whole environment: the credentials themselves are in the variables HERALD_SENDER_ENV names. */
export function senderCredentialConfig(env: NodeJS.ProcessEnv, e: SenderCredentialVariables): SenderCredentialConfig {
  const envNames = [...new Set([...DEFAULT_SENDER_ENV_NAMES, ...(e.HERALD_SENDER_ENV ?? [])])];
  const secrets: Record<string, string> = {};
  for (const name of envNames) {
    const value = env[name]?.trim();
    if (value) secrets[name] = value;
  }
  const presentInWorker = e.HERALD_SENDER_ENV_PRESENT;
  return { sender: { envNames, secrets, ...(presentInWorker !== undefined && { presentInWorker }) } };
}
