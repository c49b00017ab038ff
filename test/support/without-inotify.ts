import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';

/**
 * Takes every inotify instance of a spare uid, as other agents on a busy node do
 * (`fs.inotify.max_user_instances` counts per uid, often 128): an agent run as that uid then
 * gets EMFILE for every watch. A python3 process calls inotify_init1 until the kernel refuses
 * and holds what it got until the test ends. Needs root (to run as another uid).
 */
export async function uidWithoutInotify(t: TestContext): Promise<{ uid: number; gid: number }> {
  const uid = 200_000 + (process.pid % 100_000) * 8 + next++;
  const holder = spawn('python3', ['-c', HOLD], { uid, gid: uid, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    holder.kill();
  });
  const line = await new Promise<string>((resolve, reject) => {
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`the inotify holder exited (${code})`)));
    createInterface({ input: holder.stdout }).once('line', resolve);
  });
  const [taken, errno] = line.split(' ').map(Number);
  // EMFILE: the per-uid limit was reached, not some other failure.
  if (errno !== 24 || taken === undefined || taken < 1) throw new Error(`could not take the inotify instances of uid ${uid}: ${line}`);
  return { uid, gid: uid };
}

let next = 0;

const HOLD = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while len(fds) < 100000:
    fd = libc.inotify_init1(0)
    if fd < 0:
        break
    fds.append(fd)
print(len(fds), ctypes.get_errno(), flush=True)
sys.stdin.read()
`;
