// `npm run temporal:install-server`: builds the Temporal server and temporal-sql-tool once per
// machine (cached beside the CLI in ~/.cache/herald, see server-binary.ts) and prints the server's
// path. The cluster tests build it on first use anyway; CI runs this in the background at its start,
// so the build (minutes with empty Go caches) overlaps the other suites instead of adding to them.
import { resolveTemporalServerBinaries } from './server-binary';

const binaries = resolveTemporalServerBinaries((line) => console.error(`[temporal-server] ${line}`));
console.log(binaries.server);
