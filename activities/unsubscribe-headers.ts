import type { EmailHeadersFor } from '../src/channels/channel-dispatch';
import { channelRulesOf } from '../src/channels/registry';
import type { HeraldConfig } from '../src/config/env';
import { TrackingTokens } from '../src/domain/tracking';
import { carriesUnsubscribe, unsubscribeHeaders, unsubscribeUrl, withUnsubscribeHeaders } from '../src/domain/unsubscribe';
import type { CampaignRepository } from '../src/repositories/campaigns';
import type { ExecutionRepository } from '../src/repositories/executions';

/** Executions this worker remembers the answer for (a campaign's type never changes within an execution). */
const REMEMBERED_EXECUTIONS = 1_000;

export type { EmailHeadersFor };

/** Where the campaign behind a delivery is read, and the worker's public URL and tracking keys (absent: none). */
export interface UnsubscribeHeadersDependencies {
  executions: ExecutionRepository;
  campaigns: CampaignRepository;
  settings: Pick<HeraldConfig, 'publicUrl' | 'tracking'> | undefined;
}

/**
 * Computes each marketing email's `List-Unsubscribe` and `List-Unsubscribe-Post` at send time,
 * from the delivery (execution and position), so none of it is in workflow history or in the
 * stored rendered message. Whether an execution's email carries them follows the campaign version
 * it runs, read once per execution. A worker without HERALD_TRACKING_SECRET (which signs the link)
 * sends marketing email without them and says so once per execution, as tracking does.
 */
export function unsubscribeHeadersFor({ executions, campaigns, settings }: UnsubscribeHeadersDependencies): EmailHeadersFor {
  const carries = new Map<string, boolean>();

  async function carriesLink(executionId: string): Promise<boolean> {
    const known = carries.get(executionId);
    if (known !== undefined) return known;
    const run = await executions.campaignVersionOf(executionId);
    const campaign = run && (await campaigns.getAtVersion(run.campaignId, run.campaignVersion));
    const marketing = campaign !== undefined && carriesUnsubscribe(campaign.type, channelRulesOf(campaign.channel));
    if (marketing && (!settings || settings.tracking.secrets.length === 0)) {
      console.warn(
        `[herald] campaign ${campaign.id} is marketing but this worker has no HERALD_TRACKING_SECRET: execution ${executionId} is sent without a one-click unsubscribe link (List-Unsubscribe)`,
      );
    }
    if (carries.size >= REMEMBERED_EXECUTIONS) carries.delete(carries.keys().next().value!);
    carries.set(executionId, marketing);
    return marketing;
  }

  return async (executionId, position, configured) => {
    if (!(await carriesLink(executionId)) || !settings || settings.tracking.secrets.length === 0) return configured;
    // The keys are read at each send, as tracking reads them at each preparation.
    const url = unsubscribeUrl(settings.publicUrl, new TrackingTokens(settings.tracking.secrets), executionId, position);
    return withUnsubscribeHeaders(configured, unsubscribeHeaders(url));
  };
}
