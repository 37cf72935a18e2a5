// No-op activities for bench/bare-workflow.ts. `onComplete` lets the bare worker count completions.
export function createBareActivities(onComplete: () => void) {
  return {
    async loadCampaignSnapshot(): Promise<void> {},
    async prepareRecipients(): Promise<void> {},
    async sendEmail(): Promise<void> {},
    async completeExecution(): Promise<void> {
      onComplete();
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
