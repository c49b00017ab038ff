import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostTime } from '../../../agent/decode/host-time.ts';

const READ = '2026-11-22T10:30:00.000Z';

function timeOf(line: string, readTime = READ): string | undefined {
  const buf = Buffer.from(`junk\n${line}\n`, 'latin1');
  return new HostTime().of(buf, 5, buf.length - 1, readTime);
}

/** process.env.TZ set for one test and put back: Node reads it at every Date conversion. */
function inZone(t: { after: (fn: () => void) => void }, zone: string): void {
  const before = process.env.TZ;
  process.env.TZ = zone;
  t.after(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
}

test('RFC 3339 at the start of the line (rsyslog high precision): kept as written, zone included', () => {
  assert.equal(timeOf('2026-11-22T10:00:00.123456+01:00 node-1 kubelet[812]: started'), '2026-11-22T10:00:00.123456+01:00');
  assert.equal(timeOf('2026-11-22T09:00:00Z node-1 sshd[1]: hello'), '2026-11-22T09:00:00Z');
  assert.equal(timeOf('2026-11-22T09:00:00.123456789-05:30 x'), '2026-11-22T09:00:00.123456789-05:30');
});

test('traditional syslog time (RFC 3164): the read year, the agent zone (UTC here), both day paddings', (t) => {
  inZone(t, 'UTC');
  assert.equal(timeOf('Nov 22 10:00:00 node-1 kernel: eth0 up'), '2026-11-22T10:00:00.000Z');
  assert.equal(timeOf('Nov  2 08:05:09 node-1 cron[7]: job'), '2026-11-02T08:05:09.000Z');
  assert.equal(timeOf('Nov 2 08:05:09 node-1 cron[7]: job'), undefined, 'a single-digit day is space-padded in this format');
});

test('traditional syslog time in another zone: read as that zone, shipped in UTC', (t) => {
  inZone(t, 'Europe/Berlin');
  assert.equal(timeOf('Nov 22 10:00:00 node-1 kernel: x'), '2026-11-22T09:00:00.000Z');
  assert.equal(timeOf('Jul 22 10:00:00 node-1 kernel: x'), '2026-07-22T08:00:00.000Z', 'summer time');
});

test('December lines read in January are last year\'s; a line of tomorrow is still this year\'s', (t) => {
  inZone(t, 'UTC');
  assert.equal(timeOf('Dec 31 23:59:59 node-1 x', '2027-01-01T00:00:05.000Z'), '2026-12-31T23:59:59.000Z');
  assert.equal(timeOf('Nov 23 09:00:00 node-1 x'), '2026-11-23T09:00:00.000Z');
});

test('anything else is not a time: the line is timed when read', (t) => {
  inZone(t, 'UTC');
  for (const line of [
    'host line seq=0',
    'Foo 22 10:00:00 node-1 x', // not a month
    'Feb 30 10:00:00 node-1 x', // not a day of February
    'Nov 22 24:00:00 node-1 x', // not an hour
    'Nov 22 10:00 node-1 kernel', // no seconds
    '2026-11-22 10:00:00 x', // a space, not RFC 3339
    '2026-11-22T10:00:00+0100 x', // offset without a colon
    '2026-02-29T10:00:00Z x', // the shape of RFC 3339, but 2026 is not a leap year
    '2026-11-22T10:00:60Z x', // no leap second, as Go's time.Parse
    '2026-11-22T10:00:00.1234567890Z x', // more than nanoseconds
    'Nov 22 10:00:00', // nothing after the time
    '',
  ]) assert.equal(timeOf(line), undefined, JSON.stringify(line));
});

test('consecutive lines of the same second share one result; a new second or year is computed again', (t) => {
  inZone(t, 'UTC');
  const time = new HostTime();
  const buf = Buffer.from('Nov 22 10:00:00 a\nNov 22 10:00:00 b\nNov 22 10:00:01 c\n', 'latin1');
  assert.deepEqual([time.of(buf, 0, 17, READ), time.of(buf, 18, 35, READ), time.of(buf, 36, 53, READ)], [
    '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:01.000Z',
  ]);
  assert.equal(time.of(buf, 36, 53, '2027-11-22T10:30:00.000Z'), '2027-11-22T10:00:01.000Z');
});
