import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { BulkEndpointReset, BulkEndpointStats, EndpointReply, EndpointRequest } from './bulk-endpoint.ts';

/**
 * The benchmark's side of the `_bulk` endpoint: forks `bulk-endpoint.ts` into its own
 * process (so its CPU is not the shipper's nor the benchmark's) and talks to it over IPC.
 */
export class BulkEndpointProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: EndpointReply) => void>();
  #nextId = 0;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on('message', (reply: EndpointReply) => {
      if (reply.type === 'listening') return;
      const resolve = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      resolve?.(reply);
    });
  }

  /** `execArgv`: Node flags for the endpoint (`--cpu-prof` to see what the receiver costs). */
  static async start(execArgv: readonly string[] = [], timeoutMs = 10_000): Promise<BulkEndpointProcess> {
    const child = fork(join(import.meta.dirname, 'bulk-endpoint.ts'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...execArgv],
    });
    try {
      const [reply] = (await once(child, 'message', { signal: AbortSignal.timeout(timeoutMs) })) as [EndpointReply];
      if (reply.type !== 'listening') throw new Error(`bulk endpoint: unexpected first message ${reply.type}`);
      return new BulkEndpointProcess(child, reply.port);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async reset(reset: BulkEndpointReset): Promise<void> {
    await this.#request({ type: 'reset', id: ++this.#nextId, reset });
  }

  /** `withLatency`: include the delay percentiles (sorts every delay; ask once per phase). */
  async stats(withLatency = false): Promise<BulkEndpointStats> {
    const reply = await this.#request({ type: 'stats', id: ++this.#nextId, withLatency });
    if (reply.type !== 'stats') throw new Error(`bulk endpoint: expected stats, got ${reply.type}`);
    return reply.stats;
  }

  #request(request: EndpointRequest): Promise<EndpointReply> {
    return new Promise((resolve, reject) => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        reject(new Error('bulk endpoint process has exited'));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(request.id);
        reject(new Error(`bulk endpoint did not answer ${request.type} within 10 s`));
      }, 10_000);
      timer.unref();
      this.#pending.set(request.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.#child.send(request);
    });
  }

  /** Disconnecting makes the endpoint close and exit; SIGKILL if it does not within 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    timer.unref();
    await exited;
    clearTimeout(timer);
  }
}
