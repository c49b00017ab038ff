import type { SoakResult } from './run-soak.ts';

/** What a soak must show to pass: nothing missing, nothing twice, nothing invented, no crash, all drained. */
export function soakFailures(r: SoakResult): string[] {
  const failures: string[] = [];
  if (r.missing !== 0) failures.push(`${r.missing} lines missing`);
  if (r.duplicated !== 0) failures.push(`${r.duplicated} lines indexed more than once`);
  if (r.unexpected !== 0) failures.push(`${r.unexpected} documents with a seq that was never written`);
  if (r.crashes !== 0) failures.push(`the agent exited by itself ${r.crashes} times`);
  if (!r.drained) failures.push(`the index did not hold every line ${Math.round(r.options.drainTimeoutMs / 1000)} s after the writing stopped`);
  return failures;
}

/** The soak's figures as the plain-text table printed by `npm run soak` and pasted in the README. */
export function formatSoakReport(r: SoakResult): string {
  const o = r.options;
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const dead = Object.entries(r.deadLettered).map(([reason, n]) => `${n} (${reason})`).join(', ');
  const failures = soakFailures(r);
  const rows: Array<[string, string]> = [
    ['settings', `${o.seconds} s of writing, ${o.containers} containers at the start, ${o.linesPerSecond} lines/s, rotation every ${mib(o.rotateBytes)}, kill -9 every ${o.killEveryMs[0] / 1000}-${o.killEveryMs[1] / 1000} s, ${o.itemRejectRate * 100} % items 429, ${o.outageSeconds} s outage, ${o.maxOldSpaceMiB === undefined ? 'default heap limit' : `--max-old-space-size=${o.maxOldSpaceMiB}`}, seed ${o.seed}`],
    ['wall time', `${r.wallSeconds.toFixed(0)} s`],
    ['lines written', String(r.linesWritten)],
    ['lines indexed', String(r.linesIndexed)],
    ['missing', r.missing === 0 ? '0' : `${r.missing}: ${r.missingRanges.join(', ')}`],
    ['duplicated', `${r.duplicated} (same seq under two _ids)`],
    ['unexpected documents', r.unexpected === 0 ? '0' : `${r.unexpected}, e.g. ${r.unexpectedSamples.join('; ')}`],
    ['without pod name', r.withoutPodName === 0 ? '0' : `${r.withoutPodName} documents indexed without kubernetes.pod_name (counted by container id / pod uid), e.g. ${r.withoutPodNameSamples.join('; ')}`],
    ['dead-lettered', dead === '' ? '0' : `${dead}; written lines among them: ${r.deadLetteredLines}`],
    ['restarts survived', `${r.restarts} (kill -9), crashes: ${r.crashes}${r.crashReports.map((c) => `\n  ${c}`).join('')}`],
    ['agent warnings', Object.entries(r.agentWarnings).map(([m, n]) => `${n} x ${m}`).join('; ') || 'none'],
    ['peak RSS', `${mib(r.peakRssBytes)} (highest VmHWM of any agent process)`],
    ['longest delay', `${(r.longestDelayMs / 1000).toFixed(1)} s from write to index (the outage included)`],
    ['rotations', `${r.rotations} (deferred until the previous rotated file was read: ${r.deferredRotations})`],
    ['pods', `${r.newPods} added, ${r.deletedPods} deleted after their ${r.deletedPodLines} lines were acknowledged (${r.deletionsNotDone} deletions still waiting at the end), ${r.containerRestarts} container restarts`],
    ['random bytes', `${r.randomBytesWritten} bytes written, ${r.randomBytesDocuments} records indexed from them`],
    ['Elasticsearch answers', `${r.answers.items429} items 429, ${r.answers.items409} items 409 (replays), ${r.answers.requests413} requests 413, outage ${r.answers.refusedDuringOutage ? 'done' : 'not reached'}`],
    ['last agent', `stopped with SIGTERM: exit ${r.lastExit.code ?? r.lastExit.signal}`],
    ['result', failures.length === 0 ? 'PASS: missing = 0, duplicated = 0' : `FAIL: ${failures.join('; ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
