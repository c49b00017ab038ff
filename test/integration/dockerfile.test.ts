/**
 * The Dockerfile and the release workflow, checked without a Docker engine: the rules of
 * hadolint that matter for this image, written as assertions, and the workflow against the
 * Dockerfile and the manifests (platforms, image name, the tag that triggers it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
  /** Index of the build stage (FROM) it belongs to. */
  readonly stage: number;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') startLine = i + 1;
    pending += (pending === '' ? '' : ' ') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const [keyword = '', ...rest] = pending.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage++;
    out.push({ line: startLine, keyword: keyword.toUpperCase(), args: rest.join(' '), stage });
    pending = '';
  });
  return out;
}

/** Each rule returns its problems; `problems` runs them all. */
export function dockerfileProblems(instructions: readonly Instruction[]): string[] {
  const problems: string[] = [];
  const at = (i: Instruction, message: string) => problems.push(`line ${i.line}: ${message}`);
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const stageNames = new Set(froms.map((f) => /\sAS\s+(\S+)/i.exec(f.args)?.[1]).filter((n) => n !== undefined));
  for (const f of froms) {
    const image = f.args.split(/\s+/).find((w) => !w.startsWith('--')) ?? '';
    if (stageNames.has(image)) continue;
    // DL3006, DL3007: a base image always has a tag (or a digest), never latest.
    if (!/[:@]/.test(image.replace(/^[^/]*:\d+\//, ''))) at(f, `${image}: no tag`);
    // Distroless has no version tags; its repository name carries the Node and Debian versions.
    if (/:latest(@|$)/.test(image) && !/^gcr\.io\/distroless\/nodejs\d+-debian\d+:latest$/.test(image)) at(f, `${image}: latest`);
  }
  for (const i of instructions) {
    // DL3020: COPY, not ADD (ADD fetches URLs and unpacks archives by surprise).
    if (i.keyword === 'ADD') at(i, 'ADD instead of COPY');
    // DL3000: WORKDIR is absolute.
    if (i.keyword === 'WORKDIR' && !i.args.startsWith('/')) at(i, `relative WORKDIR ${i.args}`);
    // DL3025: ENTRYPOINT and CMD in exec form, so that SIGTERM reaches node, not a shell.
    if ((i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD') && !i.args.startsWith('[')) at(i, `${i.keyword} in shell form`);
    // DL3016 and friends: dependencies exactly as locked.
    if (i.keyword === 'RUN' && /\bnpm (install|i)\b/.test(i.args)) at(i, 'npm install instead of npm ci');
    // No secret is baked into the image's layers or metadata.
    if ((i.keyword === 'ENV' || i.keyword === 'ARG') && /(PASSWORD|TOKEN|SECRET|API_KEY)/i.test(i.args)) at(i, `a secret in ${i.keyword}`);
  }
  // A stage built on the build machine's platform must not produce platform-specific code.
  for (const f of froms.filter((x) => x.args.includes('--platform=$BUILDPLATFORM'))) {
    const runs = instructions.filter((i) => i.stage === f.stage && i.keyword === 'RUN');
    for (const r of runs) if (/\bnpm ci\b/.test(r.args) && !r.args.includes('--ignore-scripts')) at(r, 'npm ci on the build platform runs install scripts (native code of the wrong architecture)');
  }
  // The image that runs is distroless (no shell, no package manager) and ends in node as PID 1.
  const last = froms.at(-1);
  if (last === undefined || !last.args.startsWith('gcr.io/distroless/')) problems.push('the final stage is not distroless');
  const entrypoint = instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  if (entrypoint === undefined || !entrypoint.args.startsWith('["/nodejs/bin/node"')) problems.push('the entrypoint is not node');
  return problems;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

test('the Dockerfile follows the rules that matter', () => {
  assert.deepEqual(dockerfileProblems(parseDockerfile(dockerfile)), []);
});

test('breaks: each rule reports a broken Dockerfile', () => {
  const broken = [
    'FROM node AS deps',
    'WORKDIR app',
    'ADD https://example.com/x.tgz /x',
    'RUN npm install',
    'ENV ELASTICSEARCH_PASSWORD=hunter2',
    'FROM --platform=$BUILDPLATFORM node:24-slim AS more',
    'RUN npm ci \\',
    '  --omit=dev',
    'FROM debian:latest',
    'FROM gcr.io/distroless/nodejs24-debian12',
    'CMD node agent/main.ts',
  ].join('\n');
  assert.deepEqual(dockerfileProblems(parseDockerfile(broken)), [
    'line 1: node: no tag',
    'line 9: debian:latest: latest',
    'line 10: gcr.io/distroless/nodejs24-debian12: no tag',
    'line 2: relative WORKDIR app',
    'line 3: ADD instead of COPY',
    'line 4: npm install instead of npm ci',
    'line 5: a secret in ENV',
    'line 11: CMD in shell form',
    'line 7: npm ci on the build platform runs install scripts (native code of the wrong architecture)',
    'the entrypoint is not node',
  ]);
});

test('the release workflow builds the Dockerfile for amd64 and arm64 from a version tag, under the image name the DaemonSet uses', () => {
  const workflow = parseYaml(readFileSync(join(ROOT, '.github/workflows/release.yml'), 'utf8')) as {
    on: { push: { tags: string[] } };
    permissions: Record<string, string>;
    jobs: { image: { steps: { uses?: string; run?: string; with?: Record<string, string> }[] } };
  };
  assert.deepEqual(workflow.on.push.tags, ['v*']);
  assert.deepEqual(workflow.permissions, { contents: 'read', packages: 'write' });
  const steps = workflow.jobs.image.steps;
  const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
  assert.ok(build?.with !== undefined);
  assert.equal(build.with.platforms, 'linux/amd64,linux/arm64');
  assert.equal(build.with.context, '.');
  assert.ok(steps.some((s) => s.uses?.startsWith('docker/setup-qemu-action@')), 'arm64 needs QEMU on an amd64 runner');
  assert.ok(steps.some((s) => s.run?.includes('package.json') && s.run.includes('GITHUB_REF_NAME')), 'the tag is not checked against package.json');
  const meta = steps.find((s) => s.uses?.startsWith('docker/metadata-action@'));
  const daemonset = readFileSync(join(ROOT, 'manifests/daemonset.yaml'), 'utf8');
  const image = /image: (\S+):(\S+)/.exec(daemonset);
  assert.equal(meta?.with?.images, image?.[1]);
  assert.equal(image?.[2], (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  // Every base image of the Dockerfile has its digest logged by the workflow.
  const bases = parseDockerfile(dockerfile).filter((i) => i.keyword === 'FROM').map((f) => f.args.split(/\s+/).find((w) => !w.startsWith('--')));
  const logged = steps.map((s) => s.run ?? '').join('\n');
  for (const base of bases) assert.ok(logged.includes(`imagetools inspect ${base} `), `${base}: digest not logged`);
});
