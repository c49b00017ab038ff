import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { AgentProcess, tempStateDir } from '../support/agent-process.ts';
import { FakeNode } from '../support/fake-node.ts';

/** Ubuntu's syslog and auth.log: owned by syslog (uid 104), group adm (gid 4), mode 0640. */
const SYSLOG_UID = 104;
const ADM_GID = 4;

/** setpriv, when this machine has it and the test runs as root (the agent's uid in the DaemonSet); else the test is skipped, saying so. */
function setprivOrSkip(t: TestContext): boolean {
  if (process.getuid?.() !== 0) {
    t.skip('needs root: the agent runs as uid 0 in the DaemonSet');
    return false;
  }
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    t.skip('setpriv (util-linux) is not installed');
    return false;
  }
}

/**
 * The DaemonSet drops every capability but DAC_READ_SEARCH. As uid 0 with no capability, a 0640
 * file of another owner and group cannot be read; with DAC_READ_SEARCH alone it is. The agent is
 * started under setpriv with exactly the capability set of the manifest.
 */
for (const caps of [['dac_read_search'], []] as const) {
  const name = caps.length === 0 ? 'every capability dropped' : 'only DAC_READ_SEARCH';
  test(`as uid 0 with ${name}, a 0640 host log of another owner is ${caps.length === 0 ? 'not ' : ''}read`, async (t) => {
    if (!setprivOrSkip(t)) return;
    const node = await FakeNode.create();
    const state = await tempStateDir();
    t.after(() => Promise.all([node.remove(), state.remove()]));
    const auth = node.addHostLog('auth.log');
    auth.write(['seq=0 sshd[1]: Accepted publickey for admin']);
    chownSync(auth.path, SYSLOG_UID, ADM_GID);
    chmodSync(auth.path, 0o640);
    const canary = node.addHostLog('canary.log'); // root's own file: read either way
    canary.write(['seq=0 canary']);

    const wrapper = ['setpriv', `--bounding-set=-all${caps.map((c) => `,+${c}`).join('')}`, '--inh-caps=-all', '--'];
    const agent = new AgentProcess({ NODETAIL_PATHS: node.paths, NODETAIL_STATE_DIR: state.dir }, [], { wrapper });
    t.after(() => agent.kill9());
    await agent.waitFor('the canary', () => agent.records.some((r) => r.path === canary.path));
    if (caps.length === 0) await agent.waitFor('the refusal', () => agent.logs.some((l) => l.path === auth.path && l.reason === 'EACCES'));
    else await agent.waitFor('the auth.log line', () => agent.records.some((r) => r.path === auth.path));
    assert.equal((await agent.stop()).code, 0);
    const shipped = agent.records.filter((r) => r.path === auth.path).map((r) => r.log);
    assert.deepEqual(shipped, caps.length === 0 ? [] : ['seq=0 sshd[1]: Accepted publickey for admin']);
  });
}
