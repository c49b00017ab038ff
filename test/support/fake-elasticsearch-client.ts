/** A plain HTTP client for the fake Elasticsearch's own tests: every answer with its status, headers and body. */
import { startFakeElasticsearch, type FakeElasticsearch, type FakeElasticsearchOptions } from './fake-elasticsearch.ts';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(fake: FakeElasticsearch, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(fake.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/x-ndjson', ...headers },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const ndjson = (...lines: object[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

export async function withFake(options: FakeElasticsearchOptions, fn: (fake: FakeElasticsearch) => Promise<void>): Promise<void> {
  const fake = await startFakeElasticsearch(options);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

