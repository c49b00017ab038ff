/**
 * Seeded generator of realistic container log records in CRI form (containerd).
 *
 * The mix follows issue 5: most messages 100–400 bytes, some longer (stack-trace-like lines,
 * big request dumps), about 30 % JSON application logs, 0.1 % longer than 16 KiB, which
 * containerd writes as `P` parts of 16384 bytes followed by an `F` line
 * (containerd's `max_container_log_line_size`, default 16384). Every message carries `seq=<n>`
 * once, so the endpoint can count distinct records whatever the shipper wraps around them.
 */

/** containerd's default `max_container_log_line_size`. */
export const CRI_PARTIAL_BYTES = 16384;

const NAMES = ['checkout', 'cart', 'payments', 'orders', 'catalog', 'search', 'auth', 'gateway', 'inventory', 'shipping', 'users', 'recommendations'];
const PATHS = ['/api/v1/products', '/api/v1/cart/items', '/api/v2/orders', '/healthz', '/api/v1/users/me', '/graphql', '/api/v1/search', '/static/app.js'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const LEVELS = ['info', 'info', 'info', 'info', 'debug', 'warn', 'error'];
const JAVA_CLASSES = ['c.e.shop.orders.OrderService', 'o.s.web.servlet.DispatcherServlet', 'c.e.shop.payments.StripeClient', 'o.h.engine.jdbc.spi.SqlExceptionHelper', 'c.z.hikari.pool.HikariPool'];
const KLOG_FILES = ['reconciler.go:245', 'controller.go:117', 'leaderelection.go:258', 'cache.go:91', 'server.go:1432'];
const WORDS = ['cache', 'miss', 'retrying', 'request', 'upstream', 'timeout', 'connection', 'pool', 'tenant', 'shard', 'replica', 'session', 'token', 'refresh', 'queue', 'consumer', 'partition', 'offset', 'commit', 'batch'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36', 'kube-probe/1.31', 'curl/8.5.0', 'Go-http-client/2.0', 'python-requests/2.32.3'];
/** A few messages carry non-ASCII text, as real logs do. */
const UTF8_SNIPPETS = ['user="Zoë Ångström"', 'city="München"', 'note="注文を処理しました"', 'emoji="✅"'];

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export interface CriRecord {
  /** One or more complete CRI lines, each ending in `\n`. */
  readonly text: string;
  readonly physicalLines: number;
}

export class LogLineGenerator {
  #state: number;
  #isoSecondCache = new Map<number, string>();

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** mulberry32: tiny, fast and good enough for test data. */
  random(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      const r = this.int(0x100000000);
      out += (HEX_BYTE[r & 0xff] as string) + HEX_BYTE[(r >>> 8) & 0xff] + HEX_BYTE[(r >>> 16) & 0xff] + HEX_BYTE[r >>> 24];
    }
    return out.length === length ? out : out.slice(0, length);
  }

  #pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)] as T;
  }

  /**
   * containerd's timestamp: RFC3339Nano, trailing zeros of the fraction trimmed
   * (`2026-11-22T10:00:00.1Z`, or no fraction at all).
   */
  timestamp(epochSeconds: number, nanos: number): string {
    let second = this.#isoSecondCache.get(epochSeconds);
    if (second === undefined) {
      if (this.#isoSecondCache.size > 1000) this.#isoSecondCache.clear();
      second = new Date(epochSeconds * 1000).toISOString().slice(0, 19);
      this.#isoSecondCache.set(epochSeconds, second);
    }
    if (nanos === 0) return `${second}Z`;
    return `${second}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
  }

  /**
   * One record with its sequence token; `extra` is appended next to it (the steady-rate
   * phase puts the write time there).
   */
  record(seq: number, timestamp: string, extra = ''): CriRecord {
    const stream = this.random() < 0.1 ? 'stderr' : 'stdout';
    const roll = this.random();
    const tag = extra === '' ? `seq=${seq}` : `seq=${seq} ${extra}`;
    if (roll < 0.001) return splitCri(timestamp, stream, this.#longMessage(tag));
    // 91 % of the rest in 100–400 bytes, the others 400–1300 (exceptions, dumps).
    const target = this.random() < 0.91 ? 100 + this.int(300) : 400 + this.int(900);
    const message = this.random() < 0.3 ? this.#jsonMessage(tag, target) : this.#plainMessage(tag, target);
    return { text: `${timestamp} ${stream} F ${message}\n`, physicalLines: 1 };
  }

  #plainMessage(tag: string, target: number): string {
    let message: string;
    switch (this.int(4)) {
      case 0:
        message = `I1122 10:00:${String(this.int(60)).padStart(2, '0')}.${this.int(1000000)}       1 ${this.#pick(KLOG_FILES)}] "Reconciling object" controller="${this.#pick(NAMES)}" namespace="shop" name="${this.#pick(NAMES)}-${this.hex(5)}" ${tag}`;
        break;
      case 1:
        message = `10.244.${this.int(8)}.${this.int(250)} - - [22/Nov/2026:10:00:${String(this.int(60)).padStart(2, '0')} +0000] "${this.#pick(METHODS)} ${this.#pick(PATHS)}/${this.int(100000)} HTTP/1.1" ${this.random() < 0.95 ? 200 : 503} ${this.int(60000)} "-" "${this.#pick(AGENTS)}" rt=0.${this.int(1000)} ${tag}`;
        break;
      case 2:
        message = `2026-11-22 10:00:00.${this.int(1000)}  ${this.random() < 0.9 ? 'INFO' : 'WARN'} 1 --- [nio-8080-exec-${this.int(10)}] ${this.#pick(JAVA_CLASSES)} : Processing order ${this.int(1000000)} for customer ${this.int(100000)} ${tag}`;
        break;
      default:
        message = `${this.random() < 0.8 ? 'INFO' : 'WARNING'}:${this.#pick(NAMES)}.worker:${this.#pick(WORDS)} ${this.#pick(WORDS)} for key user:${this.int(100000)}:profile ${tag}`;
    }
    if (this.random() < 0.02) message += ` ${this.#pick(UTF8_SNIPPETS)}`;
    while (message.length < target) message += ` ${this.#pick(WORDS)}=${this.#pick(WORDS)}-${this.int(10000)}`;
    return message;
  }

  #jsonMessage(tag: string, target: number): string {
    let message = `{"level":"${this.#pick(LEVELS)}","ts":"2026-11-22T10:00:00.${this.int(1000)}Z","caller":"server/handler.go:${this.int(400)}","msg":"request completed ${tag}","method":"${this.#pick(METHODS)}","path":"${this.#pick(PATHS)}","status":${this.random() < 0.95 ? 200 : 500},"duration_ms":${this.int(100000) / 100},"trace_id":"${this.hex(32)}"`;
    let field = 0;
    while (message.length < target - 1) message += `,"${this.#pick(WORDS)}_${field++}":"${this.#pick(WORDS)}-${this.int(10000)}"`;
    return `${message}}`;
  }

  /** ASCII only, so that splitting by characters is splitting by bytes. */
  #longMessage(tag: string): string {
    const target = CRI_PARTIAL_BYTES + 500 + this.int(40000);
    let message = `Dumping request state ${tag} payload=`;
    while (message.length < target) message += this.hex(64);
    return message.slice(0, target);
  }
}

/** containerd's split of a long message: `P` lines of exactly 16384 bytes, then an `F`. */
function splitCri(timestamp: string, stream: string, message: string): CriRecord {
  let text = '';
  let lines = 0;
  let at = 0;
  while (message.length - at > CRI_PARTIAL_BYTES) {
    text += `${timestamp} ${stream} P ${message.slice(at, at + CRI_PARTIAL_BYTES)}\n`;
    at += CRI_PARTIAL_BYTES;
    lines++;
  }
  text += `${timestamp} ${stream} F ${message.slice(at)}\n`;
  return { text, physicalLines: lines + 1 };
}
