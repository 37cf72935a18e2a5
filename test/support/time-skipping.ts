import { TestWorkflowEnvironment } from '@temporalio/testing';

type Executable = NonNullable<NonNullable<Parameters<typeof TestWorkflowEnvironment.createTimeSkipping>[0]>['server']>['executable'];

/**
 * Temporal's time-skipping test server (a JVM), started with a few tries: the SDK gives a starting
 * server 5 s to listen, which a busy 2-core machine (CI running suites side by side) sometimes
 * misses on the first try. Only the startup is retried; a test never is.
 */
export async function startTimeSkipping(executable: Executable, attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    } catch (error) {
      const slowStart = error instanceof Error && /did not start within/.test(error.message);
      if (!slowStart || attempt >= attempts) throw error;
      console.warn(`[time-skipping] the test server did not start in time (try ${attempt} of ${attempts}); starting another`);
    }
  }
}
