import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { wholeNumber } from './zod-helpers';

const renderProcesses = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number of render processes, e.g. ${name}=2` })
    .int(`${name} must be a whole number of render processes, e.g. ${name}=2`)
    .min(1, `${name} must be at least 1`)
    .max(64, `${name} must be at most 64`)
    .optional();

/** The limits of the sandboxed renderer (src/rendering), in the worker and the API alike. */
export const renderingVariables = z.object({
  HERALD_RENDER_TIMEOUT_MS: wholeNumber('HERALD_RENDER_TIMEOUT_MS', 2000, 10, 60_000, 'milliseconds'),
  HERALD_RENDER_MAX_BYTES: wholeNumber('HERALD_RENDER_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024, 'bytes'),
  // How many render processes (each with its own heap); HERALD_RENDER_THREADS is its name from
  // when renders ran on worker threads, still read so an existing deployment keeps its setting.
  HERALD_RENDER_PROCESSES: renderProcesses('HERALD_RENDER_PROCESSES'),
  HERALD_RENDER_THREADS: renderProcesses('HERALD_RENDER_THREADS'),
});

export type RenderingVariables = z.infer<typeof renderingVariables>;

export interface RenderingConfig {
  /** Limits on every template render (see src/rendering). */
  render: { timeoutMs: number; maxBytes: number; processes: number };
}

export function renderingConfig(e: RenderingVariables): RenderingConfig {
  return {
    render: {
      timeoutMs: e.HERALD_RENDER_TIMEOUT_MS,
      maxBytes: e.HERALD_RENDER_MAX_BYTES,
      processes: e.HERALD_RENDER_PROCESSES ?? e.HERALD_RENDER_THREADS ?? Math.max(1, Math.min(4, availableParallelism())),
    },
  };
}
