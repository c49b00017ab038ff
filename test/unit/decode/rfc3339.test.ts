import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRfc3339, isRfc3339String } from '../../../agent/decode/rfc3339.ts';

function check(time: string): boolean {
  // Padded on both sides: the check must read only its own range.
  const buf = Buffer.from(`9${time}0`, 'utf8');
  const fromBuffer = isRfc3339(buf, 1, buf.length - 1);
  assert.equal(isRfc3339String(time), fromBuffer, `buffer and string checks agree on ${JSON.stringify(time)}`);
  return fromBuffer;
}

test('the times the runtimes write are RFC 3339', () => {
  for (const time of [
    '2024-01-01T12:00:00Z', // containerd, moby: fraction zeros trimmed away
    '2024-01-01T12:00:00.1Z',
    '2024-01-01T12:00:00.000000001Z',
    '2024-01-01T12:00:00.123456789+00:00', // CRI-O
    '2024-01-01T07:00:00.100000000-05:00',
    '2024-02-29T23:59:59.999999999-00:00', // a leap year's February 29
    '2000-02-29T00:00:00+23:59', // 2000 is a leap year (divisible by 400); the largest offset
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
  ]) assert.equal(check(time), true, time);
});

test('anything else is not, as kubelet reads it (Go time.Parse) or as Elasticsearch would refuse it', () => {
  for (const time of [
    '', 'qwerty', '2024-01-01', '2024-01-01T12:00:00', // no zone
    '2024-13-01T12:00:00Z', '2024-00-01T12:00:00Z', // month
    '2024-01-00T12:00:00Z', '2024-01-32T12:00:00Z', '2024-04-31T12:00:00Z', // day
    '2023-02-29T12:00:00Z', '1900-02-29T12:00:00Z', // February 29 of a common year
    '2024-01-01T24:00:00Z', '2024-01-01T12:60:00Z', '2024-01-01T12:00:60Z', // hour, minute, leap second
    '2024-01-01T12:00:00+24:00', '2024-01-01T12:00:00+01:60', '2024-01-01T12:00:00+0100', '2024-01-01T12:00:00+01',
    '2024-01-01t12:00:00Z', '2024-01-01T12:00:00z', '2024-01-01 12:00:00Z', // case, separator
    '2024-01-01T12:00:00.Z', '2024-01-01T12:00:00.1234567890Z', '2024-01-01T12:00:00,1Z', // fraction
    '2024-1-01T12:00:00Z', '+2024-01-01T12:00:00Z', '2024-01-01T12:00:00ZZ', ' 2024-01-01T12:00:00Z',
    '2024-01-01T12:00:0\u0130Z', // a character whose latin1 low byte is a digit
    '2024-01-01T12:00:00.123456789+00:00x',
  ]) assert.equal(check(time), false, time);
});
