import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * A file is its device + inode, confirmed by a fingerprint of its first bytes: an inode that
 * the filesystem reuses for a new file must not inherit the old file's offset (routine after the
 * kubelet gzips a rotated file: the freed inode goes to the next new file). The fingerprint covers the first line, or the first FINGERPRINT_BYTES
 * when that line is longer, so it is fixed as soon as the first line is complete and never
 * changes as the file grows.
 */
export const FINGERPRINT_BYTES = 256;

export function fileKey(dev: number | bigint, ino: number | bigint): string {
  return `${dev}:${ino}`;
}

/**
 * The fingerprint of an open file: a short hash of its inode and first line, used as the
 * prefix of every record's `_id`. Undefined while the first line is not complete yet. The
 * device number is left out: it can change across a reboot (LVM or NVMe ordering), and ids
 * must not, so that a file read again after one is answered 409 instead of indexed twice.
 */
export async function fingerprint(fh: FileHandle, key: string): Promise<string | undefined> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await fh.read(head, 0, FINGERPRINT_BYTES, 0);
  return fingerprintOf(head.subarray(0, bytesRead), key);
}

export function fingerprintOf(head: Buffer, key: string): string | undefined {
  const nl = head.indexOf(10);
  if (nl < 0 && head.length < FINGERPRINT_BYTES) return undefined;
  const bytes = nl < 0 ? head.subarray(0, FINGERPRINT_BYTES) : head.subarray(0, nl + 1);
  const inode = key.slice(key.indexOf(':') + 1);
  return createHash('sha256').update(inode).update('\0').update(bytes).digest('base64url').slice(0, 16);
}

/**
 * The prefix of every `_id` of a file: its fingerprint, and after the file was truncated and
 * written again (copytruncate), the count of such truncations. A first line written again
 * unchanged (a banner, a fixed start-up message) would otherwise give the new content the ids
 * of the old, and Elasticsearch would answer 409 for lines it never saw.
 */
export function idPrefixOf(fingerprint: string, generation: number): string {
  return generation === 0 ? fingerprint : `${fingerprint}.${generation}`;
}
