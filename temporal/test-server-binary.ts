import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { heraldCacheDir } from './cli-binary';

/**
 * Temporal's Java test server, for `TestWorkflowEnvironment.createTimeSkipping` (timers skip ahead
 * when no activity runs). The SDK downloads a native build from temporal.download, which is out
 * of reach here; Maven Central has the same server as `io.temporal:temporal-test-server`, run on
 * the JVM. The jar is pinned by its sha256 (computed from Maven Central's artifact, whose sha1
 * Maven checks on download); its dependencies come as the artifact's POM pins them.
 */
export const TEMPORAL_TEST_SERVER_VERSION = '1.31.0';
export const TEMPORAL_TEST_SERVER_JAR_SHA256 = 'c33eafa1f50af5df595f37a3c2ad8d6858a9e510034fd6c92d5bcff88cbfdcaa';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

export function cachedTestServerDir(): string {
  return join(heraldCacheDir(), `temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}`);
}

/** The script the SDK starts as `<script> <port>`: the JVM on the cached classpath. */
export function cachedTestServerScript(): string {
  return join(cachedTestServerDir(), 'temporal-test-server');
}

const has = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>herald</groupId><artifactId>temporal-test-server-classpath</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEMPORAL_TEST_SERVER_VERSION}</version></dependency>
  </dependencies>
</project>
`;

/**
 * Resolves the test server's runtime classpath from Maven Central with `mvn
 * dependency:copy-dependencies` into a scratch folder, checks the server jar's sha256, writes the
 * wrapper script and moves the folder into place (atomically, so concurrent provisioners never
 * see half of it). False, with nothing installed, when java or mvn is missing or a step fails.
 */
export function provisionTestServer(targetDir: string, log: (line: string) => void): boolean {
  if (!has('java', ['-version'])) {
    log('java is not available: cannot run the Temporal Java test server');
    return false;
  }
  if (!has('mvn', ['-v'])) {
    log('mvn is not available: cannot fetch the Temporal test server from Maven Central');
    return false;
  }
  let scratch: string | undefined;
  try {
    mkdirSync(dirname(targetDir), { recursive: true });
    scratch = mkdtempSync(join(dirname(targetDir), '.temporal-test-server-'));
    writeFileSync(join(scratch, 'pom.xml'), POM);
    log(`fetching io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_VERSION} and its dependencies from Maven Central ...`);
    const mvn = spawnSync(
      'mvn',
      ['-q', '-B', '-f', join(scratch, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${join(scratch, 'lib')}`, '-DincludeScope=runtime'],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (mvn.status !== 0) {
      log(`mvn dependency:copy-dependencies failed: ${(mvn.stdout + mvn.stderr).trim().slice(-2000)}`);
      return false;
    }
    const jar = join(scratch, 'lib', `temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}.jar`);
    const sha256 = existsSync(jar) ? createHash('sha256').update(readFileSync(jar)).digest('hex') : 'missing';
    if (sha256 !== TEMPORAL_TEST_SERVER_JAR_SHA256) {
      log(`temporal-test-server jar sha256 ${sha256} is not the pinned ${TEMPORAL_TEST_SERVER_JAR_SHA256}`);
      return false;
    }
    // `exec`, so the process the SDK stops on teardown is the JVM itself.
    const script = join(scratch, 'temporal-test-server');
    writeFileSync(script, `#!/bin/sh\nexec java -cp '${join(targetDir, 'lib')}/*' ${MAIN_CLASS} "$@"\n`);
    chmodSync(script, 0o755);
    rmSync(join(scratch, 'pom.xml'));
    try {
      renameSync(scratch, targetDir);
      scratch = undefined;
    } catch (error) {
      // Another provisioner got there first: theirs is as good.
      if (!existsSync(join(targetDir, 'temporal-test-server'))) throw error;
    }
    return true;
  } catch (error) {
    log(`provisioning the Temporal test server failed: ${(error as Error).message}`);
    return false;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The Java test server as an existing-path executable for `createTimeSkipping`: cached, else
 * provisioned from Maven Central (first run: about a minute). Undefined, with the reason logged,
 * when it cannot be had (no JVM, no Maven, no registry).
 */
export function resolveTestServerExecutable(log: (line: string) => void = console.log): EphemeralServerExecutable | undefined {
  const script = cachedTestServerScript();
  if (existsSync(script)) return { type: 'existing-path', path: script };
  if (provisionTestServer(cachedTestServerDir(), log) && existsSync(script)) {
    log(`Temporal test server ${TEMPORAL_TEST_SERVER_VERSION}: from Maven Central, at ${cachedTestServerDir()}`);
    return { type: 'existing-path', path: script };
  }
  return undefined;
}
