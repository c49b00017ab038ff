import type { OutputProblem } from '../../core/observer.ts';

/**
 * The classify stage: what each answer of Elasticsearch means, as the README's table in
 * "Elasticsearch output" says (the `_bulk` API's documented item and request statuses). Pure functions of the answer, so the table is tested case by case.
 */

/**
 * Why an item was set aside (a bounded metric label). `failure_store`: Elasticsearch 9 stored the
 * document in its data stream's failure store instead of the data stream (its mappings refused it).
 */
export type DeadLetterReason = 'mapping' | 'index_not_found' | 'rejected' | 'too_large' | 'bad_request' | 'failure_store';

export interface ServerError {
  readonly type: string;
  readonly reason: string;
}

export type ItemOutcome =
  | { readonly kind: 'delivered'; readonly replay: boolean }
  | { readonly kind: 'retry'; readonly problem: 'too_many_requests' | 'server_error' | 'cluster_block' | 'unauthorized' }
  | { readonly kind: 'retry'; readonly problem: 'index_blocked'; readonly error: ServerError }
  | { readonly kind: 'dead'; readonly reason: DeadLetterReason; readonly status: number; readonly error: ServerError };

export type RequestOutcome =
  /** 2xx with one answer per item, in request order. */
  | { readonly kind: 'items'; readonly items: readonly ItemOutcome[]; readonly allDelivered: boolean }
  /** Send the same items again after a wait; `pushBack` lowers the concurrency. */
  | { readonly kind: 'retry'; readonly problem: OutputProblem; readonly pushBack: boolean; readonly retryAfterMs: number | undefined; readonly error: ServerError | undefined }
  /** Send the halves separately: 413, or a 400 that one bad item may have caused. */
  | { readonly kind: 'split'; readonly problem: 'too_large' | 'bad_request'; readonly status: number; readonly error: ServerError }
  /** Credentials refused: not ready, retry slowly. */
  | { readonly kind: 'unauthorized'; readonly status: number; readonly error: ServerError }
  /** An answer that only an operator can fix (406, a wrong path): not ready, retry slowly, never drop. */
  | { readonly kind: 'stuck'; readonly status: number; readonly error: ServerError };

/** Mapping errors: never retried. Elasticsearch 7 says mapper_parsing_exception, 8+ document_parsing_exception. */
const MAPPING_ERRORS = new Set(['mapper_parsing_exception', 'document_parsing_exception', 'illegal_argument_exception', 'strict_dynamic_mapping_exception']);

/** Request-level errors that mean "this body did not parse": one malformed item can cause them. */
const BODY_PARSE_ERRORS = new Set(['x_content_parse_exception', 'json_parse_exception', 'parse_exception', 'not_x_content_exception']);

/**
 * A block an operator set and must lift: `index.blocks.write` (FORBIDDEN/8), `index.blocks.read_only`
 * (FORBIDDEN/5), the cluster-wide `cluster.blocks.read_only` (FORBIDDEN/6)... all answered 403. The
 * flood-stage block (id 12: 429 since Elasticsearch 7.x, 403 before) lifts by itself when disk frees.
 */
export function isOperatorBlock(status: number, error: ServerError): boolean {
  return status === 403 && error.type === 'cluster_block_exception' && !error.reason.includes('/12/');
}

export function classifyItem(action: string, status: number, error: ServerError | undefined): ItemOutcome {
  if (status === 200 || status === 201) return { kind: 'delivered', replay: false };
  const type = error?.type ?? '';
  // Our deterministic `_id` with `create`: the document is there already, from an earlier send.
  if (status === 409 && action === 'create' && type === 'version_conflict_engine_exception') return { kind: 'delivered', replay: true };
  // A write or read-only block: the data is fine; wait, never drop, until an operator removes it.
  if (error !== undefined && isOperatorBlock(status, error)) return { kind: 'retry', problem: 'index_blocked', error };
  // Flood-stage disk: the data is fine, the cluster is not. Wait for it, never drop.
  if (type === 'cluster_block_exception') return { kind: 'retry', problem: 'cluster_block' };
  if (status === 429) return { kind: 'retry', problem: 'too_many_requests' };
  if (status >= 500) return { kind: 'retry', problem: 'server_error' };
  // A role without privileges on this index (tomorrow's, say): an operator fixes it; never drop meanwhile.
  if (status === 401 || status === 403) return { kind: 'retry', problem: 'unauthorized' };
  const err = error ?? { type: `http_${status}`, reason: `status ${status} without an error` };
  if (status === 404 && type === 'index_not_found_exception') return { kind: 'dead', reason: 'index_not_found', status, error: err };
  if (status === 400 && MAPPING_ERRORS.has(type)) return { kind: 'dead', reason: 'mapping', status, error: err };
  if (status === 413) return { kind: 'dead', reason: 'too_large', status, error: err };
  return { kind: 'dead', reason: 'rejected', status, error: err };
}

/** The `error` of an Elasticsearch answer, whatever its shape (object, string, missing). */
export function serverError(body: unknown, status: number): ServerError {
  const e = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (typeof e === 'string') return { type: `http_${status}`, reason: e };
  if (e !== null && typeof e === 'object') {
    const o = e as { type?: unknown; reason?: unknown };
    return { type: typeof o.type === 'string' ? o.type : `http_${status}`, reason: typeof o.reason === 'string' ? o.reason : '' };
  }
  return { type: `http_${status}`, reason: '' };
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * The header says "no item failed": the common case is answered without walking the items. But an
 * item Elasticsearch 9 put in a failure store is a success too (201, `errors` false) with
 * `"failure_store":"used"`; where a failure store can be in use, the body is searched for that
 * (about 0.5 ms per MB), elsewhere not at all.
 */
function noErrors(body: string, failureStore: boolean): boolean {
  // `errors` is the first or second key of a bulk answer ({"took":N,"errors":...} or {"errors":...,"took":N}).
  const head = body.slice(0, 64);
  return head.includes('"errors":false') && !(failureStore && body.includes('"failure_store":"used"'));
}

/**
 * One `_bulk` answer to `count` items. `actionAt(i)` is the action of item i (`create` or
 * `index`), needed because a 409 means "already delivered" only for `create`. `failureStore`:
 * the server may put items in a data stream failure store (Elasticsearch 9).
 */
export function classifyBulkResponse(status: number, retryAfter: number | undefined, body: string, count: number, actionAt: (i: number) => string, failureStore = false): RequestOutcome {
  if (status >= 200 && status < 300) {
    // The common answer needs no parse: a 10 000-item answer is megabytes of JSON that say "201" each time.
    if (noErrors(body, failureStore)) return { kind: 'items', items: [], allDelivered: true };
    const parsed = parse(body) as { errors?: unknown; items?: unknown } | undefined;
    const items = parsed?.items;
    if (!Array.isArray(items) || items.length !== count) {
      // A proxy's page, a truncated answer: the items' fate is unknown, so send them again (harmless with ids + create).
      return { kind: 'retry', problem: 'server_error', pushBack: false, retryAfterMs: undefined, error: { type: 'invalid_bulk_response', reason: `expected ${count} items in a ${status} answer, got ${Array.isArray(items) ? items.length : 'none'}` } };
    }
    const outcomes: ItemOutcome[] = [];
    let allDelivered = true;
    for (let i = 0; i < items.length; i++) {
      const wrapper = items[i] as Record<string, { status?: unknown; error?: unknown; failure_store?: unknown; _index?: unknown }> | null;
      const key = wrapper === null || typeof wrapper !== 'object' ? undefined : Object.keys(wrapper)[0];
      const item = key === undefined ? undefined : wrapper?.[key];
      const itemStatus = typeof item?.status === 'number' ? item.status : 0;
      const outcome: ItemOutcome = itemStatus === 0
        ? { kind: 'retry', problem: 'server_error' }
        : item?.failure_store === 'used' && itemStatus < 300
          // Stored, but in the failure store, not the data stream: set aside with a note, never counted as delivered.
          ? { kind: 'dead', reason: 'failure_store', status: itemStatus, error: { type: 'failure_store', reason: `the data stream's mappings refused the document; stored in its failure store index [${String(item._index)}]` } }
          : classifyItem(actionAt(i), itemStatus, item?.error === undefined ? undefined : serverError(item, itemStatus));
      if (outcome.kind !== 'delivered') allDelivered = false;
      outcomes.push(outcome);
    }
    return { kind: 'items', items: outcomes, allDelivered };
  }
  const error = serverError(parse(body), status);
  if (isOperatorBlock(status, error)) return { kind: 'retry', problem: 'index_blocked', pushBack: false, retryAfterMs: undefined, error };
  if (error.type === 'cluster_block_exception') return { kind: 'retry', problem: 'cluster_block', pushBack: true, retryAfterMs: retryAfter, error };
  if (status === 401 || status === 403) return { kind: 'unauthorized', status, error };
  if (status === 413) return { kind: 'split', problem: 'too_large', status, error: error.reason === '' ? { type: 'request_entity_too_large', reason: 'the request is larger than http.max_content_length' } : error };
  if (status === 429) return { kind: 'retry', problem: 'too_many_requests', pushBack: true, retryAfterMs: retryAfter, error };
  if (status >= 500) return { kind: 'retry', problem: 'server_error', pushBack: true, retryAfterMs: retryAfter, error };
  if (status === 408) return { kind: 'retry', problem: 'timeout', pushBack: true, retryAfterMs: retryAfter, error };
  // A whole-request 400 that says the body did not parse may come from one bad item: split to find
  // it and set only that one aside. Any other 400 (a proxy's page, content negotiation, a bad
  // parameter) fails for every body alike: splitting would set everything aside, so it is stuck.
  if (status === 400 && BODY_PARSE_ERRORS.has(error.type)) return { kind: 'split', problem: 'bad_request', status, error };
  return { kind: 'stuck', status, error };
}
