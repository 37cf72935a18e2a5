import { z } from 'zod';

/** The worker's Temporal SDK log level. */
export const loggingVariables = z.object({
  HERALD_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: 'HERALD_LOG_LEVEL must be one of debug, info, warn, error' }).default('info'),
});

export type LoggingVariables = z.infer<typeof loggingVariables>;

export interface LoggingConfig {
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export function loggingConfig(e: LoggingVariables): LoggingConfig {
  return { logLevel: e.HERALD_LOG_LEVEL };
}
