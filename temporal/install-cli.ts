// `npm run temporal:install`: provisions the Temporal CLI ahead of time and prints where it is.
import { resolveTemporalExecutable } from './cli-binary';

const executable = resolveTemporalExecutable(process.env.TEMPORAL_CLI_PATH);
console.log(executable.type === 'existing-path' ? executable.path : `SDK download into ${executable.downloadDir ?? 'the default cache'}`);
