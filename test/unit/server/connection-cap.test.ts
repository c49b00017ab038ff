import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { nullLog } from '../../../agent/core/log.ts';
import { HEADERS_TIMEOUT_MS, MAX_CONNECTIONS, startHttpServer } from '../../../agent/server/http-server.ts';

/** Resolves when the socket is closed; rejects with `what` after `ms`. */
function closed(socket: Socket, what: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.closed) return resolve();
    const timer = setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {}); // a reset from the server is what some tests wait for
    socket.once('error', reject);
  });
}

/**
 * Anyone who reaches the metrics port must not be able to take the agent's descriptors with idle
 * connections: past the cap new ones are closed at once, idle ones are dropped within the header
 * timeout (the default, not a shortened one), and probes answer again.
 */
test('connections past the cap are closed at once, idle ones within the header timeout, and probes answer again', async () => {
  const server = await startHttpServer({
    port: 0,
    address: '127.0.0.1',
    metrics: { contentType: 'text/plain', render: async () => '' },
    health: () => ({ ok: true }),
    ready: () => ({ ok: true, reasons: [] }),
    log: nullLog,
  });
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < MAX_CONNECTIONS; i++) sockets.push(await open(server.port));
    const extra = await open(server.port);
    sockets.push(extra);
    await closed(extra, 'the connection past the cap', HEADERS_TIMEOUT_MS);
    // Sent nothing: dropped once the timeout has passed. The bound leaves room for a loaded
    // machine and still tells 5 s from the 30 s idle connections used to live.
    await Promise.all(sockets.map((s, i) => closed(s, `idle connection ${i}`, HEADERS_TIMEOUT_MS * 3)));
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  } finally {
    for (const s of sockets) s.destroy();
    await server.close();
  }
});
