/**
 * A `Retry-After` header in milliseconds: delta-seconds or an HTTP date (RFC 9110 10.2.3).
 * Capped, so a confused proxy cannot park the agent for a day. Undefined when absent or invalid.
 */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now(), capMs = 300_000): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, capMs);
}
