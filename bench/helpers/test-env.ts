// The servers of scripts/test-env for a benchmark: reused when the caller already started them, else started for
// this run (their KILN_TEST_* settings put into process.env); the returned function stops what it started.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../test/helpers/kiln-process';

const run = promisify(execFile);

export async function testEnv(): Promise<() => Promise<void>> {
  if (process.env.KILN_TEST_DATABASE_URL) return async () => {};
  const env = { ...process.env, KILN_TEST_ENV_CALLER: String(process.pid) };
  const { stdout } = await run('bash', ['scripts/test-env', 'start'], { cwd: REPO_ROOT, env, maxBuffer: 1 << 20 });
  for (const line of stdout.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return async () => {
    await run('bash', ['scripts/test-env', 'stop'], { cwd: REPO_ROOT, env }).catch(() => {});
  };
}
