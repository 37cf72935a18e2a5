// What one stack of the run measured: a report is printed from it, the side-by-side table reads a
// few figures of each, and the run's JSON is the list of them (bench/compare-builds.ts reads pairs,
// codec and bareShape of it, so those fields keep their names and shapes).
import type { AudienceRunBenchResult } from './audience-run';
import type { BareShape } from './bare-workflow';
import type { CpuSnapshot } from './cpu';
import type { ExecutionListingBenchResult } from './execution-listing';
import type { AcceptRow } from './modes/accept';
import type { Pair } from './modes/end-to-end';
import type { ProfileRow } from './modes/growth';
import type { HighThroughputResult } from './modes/high-throughput';
import type { ProcessMemory } from './modes/resources';
import type { StepsCostPair } from './modes/steps-cost';
import type { WaitingRunsResult } from './modes/waiting-runs';
import type { ProfileImportBenchResult } from './profile-import';
import type { CodecMode } from './stack';
import type { Topology } from './topology';

export interface Results {
  /** 1-based position in the run's sequence of stacks. */
  order: number;
  round: number;
  topology: Topology;
  startedAt: string;
  codec: CodecMode;
  bareShape: BareShape;
  accept?: AcceptRow[];
  pairs: Pair[];
  profiles?: ProfileRow[];
  profileImport?: ProfileImportBenchResult;
  audienceRun?: AudienceRunBenchResult;
  executionListing?: ExecutionListingBenchResult;
  stepsCost?: StepsCostPair[];
  waitingRuns?: WaitingRunsResult;
  highThroughput?: HighThroughputResult;
  /** Peak and final RSS by process name (api, worker-2, temporal, ...). */
  memory: ProcessMemory;
  totalCpu: CpuSnapshot;
}
