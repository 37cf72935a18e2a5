/**
 * HERALD_START_WAIT_MS in the test harnesses: the API's 5 s deadline for a start, so a trigger is
 * answered once its workflow has started (or its start failed), and a test may look the workflow
 * up as soon as it has the 202. The tests of the answer before the start (ADR 0011) set it lower.
 */
export const TEST_START_WAIT_MS = '5000';
