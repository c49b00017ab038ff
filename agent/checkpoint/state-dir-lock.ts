import { randomBytes } from 'node:crypto';
import { link, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { Log } from '../core/log.ts';

const LOCK = 'nodetail.lock';

/** How long a lock's holder may take to answer before it is taken for alive anyway. */
const PROBE_TIMEOUT_MS = 2000;

/** What `lockStateDir` returns: the lock is held until `release`. */
export interface StateDirLock {
  release(): Promise<void>;
}

/**
 * One agent per state dir. The lock is a Unix socket the agent listens on, `<state_dir>/nodetail.lock`:
 * the kernel closes it when the process dies, however it dies, so a crashed agent's lock refuses
 * connections and its restart takes it over at once, while a live agent's answers, whichever pid
 * namespace (pod) it runs in. A pid file cannot tell these apart across pods (every agent is pid 1).
 * The socket is made under a temporary name and hard-linked into place, so of two agents starting
 * together one gets EEXIST.
 *
 * A state dir where the lock cannot be made (read-only, a path too long for a socket) is logged
 * and left unlocked: the checkpoint writes report the rest. A state dir held by a live agent is a
 * ConfigError naming `state_dir`: start-up stops with that message.
 */
export async function lockStateDir(dir: string, log: Log): Promise<StateDirLock> {
  const path = join(dir, LOCK);
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const server = createServer((socket) => socket.end()); // the answer is the connection itself
  server.unref();
  try {
    await mkdir(dir, { recursive: true });
    await listen(server, tmp);
  } catch (err) {
    server.close();
    log.warn({ path, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, 'cannot lock the state dir: a second agent on it would not be refused');
    return { release: async () => {} };
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      if (await answers(path)) {
        throw new ConfigError('state_dir', `another nodetail agent is running on ${JSON.stringify(dir)} (its lock ${LOCK} answers): two agents on one state dir send every line twice and overwrite each other's checkpoints; stop the other one, or give each its own state_dir`);
      }
      // A stopped agent's lock: nobody listens on it any more.
      await unlink(path).catch(() => {});
      log.info({ path }, 'state dir lock of an agent that is gone: taken over');
    }
  } catch (err) {
    server.close();
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return {
    release: async () => {
      await unlink(path).catch(() => {});
      server.close();
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** True when a process listens on the socket (or does not say no in time). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.setTimeout(PROBE_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
