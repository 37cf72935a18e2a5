// No-op activities for bench/bare-workflow.ts. `onComplete` lets the bare worker count completions.
export function createBareActivities(onComplete: () => void) {
  return {
    async loadCampaignGate(): Promise<void> {},
    async prepareExecution(): Promise<void> {},
    async sendPreparedNow(): Promise<void> {},
    async sendMessage(): Promise<void> {},
    async closeExecution(): Promise<void> {
      onComplete();
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
