/**
 * A node:test reporter for `npm run test:stress`: one JSON line per finished test file and per
 * failed test, so that the stress runner can count failures per file without parsing prose.
 */
interface TestEvent {
  readonly type: string;
  readonly data: {
    readonly name?: string;
    readonly file?: string;
    readonly nesting?: number;
    readonly details?: { readonly error?: { readonly message?: string; readonly cause?: unknown; readonly failureType?: string } };
  };
}

export default async function* failureReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:fail' && event.type !== 'test:pass') continue;
    const { name, file, nesting, details } = event.data;
    const failed = event.type === 'test:fail';
    // Only top-level tests count (a failing subtest fails its parent too); a whole file that dies
    // (a native abort, an exit code) is reported as a top-level test named after the file.
    if (nesting !== 0) continue;
    const error = details?.error;
    const cause = error?.cause instanceof Error ? error.cause.message : error?.cause === undefined ? undefined : String(error.cause);
    yield `${JSON.stringify({ failed, file, name, ...(failed ? { error: cause ?? error?.message ?? error?.failureType } : {}) })}\n`;
  }
}
