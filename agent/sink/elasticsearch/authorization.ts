import { readFile } from 'node:fs/promises';
import type { ElasticsearchConfig } from '../../config/load-config.ts';

/**
 * The `Authorization` header of every request, and a description of it that is safe to log.
 * In order of precedence: API key, bearer token file, basic auth from the settings, basic auth
 * embedded in the URL (taken out of the URL so that it never reaches a log line).
 */
export interface Authorization {
  header(): Promise<string | undefined>;
  /** The server refused the credentials: a token file is read again before the next request. */
  refused(): void;
  /** "api key", "basic (user elastic)", "bearer token from /path", "none": never the secret. */
  readonly description: string;
}

/** A token file is re-read at most this often, and after every 401: projected tokens rotate. */
const TOKEN_REREAD_MS = 60_000;

export function createAuthorization(
  config: Pick<ElasticsearchConfig, 'apiKey' | 'bearerTokenFile' | 'username' | 'password'> & Partial<Pick<ElasticsearchConfig, 'apiKeyFile' | 'passwordFile'>>,
  urlCredentials: { readonly username: string; readonly password: string } | undefined,
  now: () => number = Date.now,
): Authorization {
  if (config.apiKey !== undefined) {
    const key = rereadAfterRefusal(config.apiKey, config.apiKeyFile);
    return { header: async () => `ApiKey ${await key.value()}`, refused: key.refused, description: 'api key' };
  }
  const tokenFile = config.bearerTokenFile;
  if (tokenFile !== undefined) {
    let token: string | undefined;
    let readAt = -Infinity;
    return {
      header: async () => {
        if (token === undefined || now() - readAt >= TOKEN_REREAD_MS) {
          readAt = now();
          // A file that cannot be read leaves the old token in place; the server's 401 says the rest.
          token = (await readFile(tokenFile, 'utf8').catch(() => undefined))?.trim() ?? token;
        }
        return token === undefined ? undefined : `Bearer ${token}`;
      },
      refused: () => {
        readAt = -Infinity;
      },
      description: `bearer token from ${tokenFile}`,
    };
  }
  const user = config.username ?? urlCredentials?.username;
  const password = config.username !== undefined ? (config.password ?? '') : (urlCredentials?.password ?? '');
  if (user !== undefined && user !== '') {
    const secret = rereadAfterRefusal(password, config.username !== undefined ? config.passwordFile : undefined);
    return { header: async () => `Basic ${Buffer.from(`${user}:${await secret.value()}`).toString('base64')}`, refused: secret.refused, description: `basic (user ${user})` };
  }
  return { header: async () => undefined, refused() {}, description: 'none' };
}

/**
 * A secret read from a file at start-up (a mounted Secret, which the kubelet updates in place
 * when it is rotated): read again after the server refused it, so a rotation needs no restart.
 * A file that cannot be read keeps the last value.
 */
function rereadAfterRefusal(initial: string, file: string | undefined): { value(): Promise<string>; refused(): void } {
  let value = initial;
  let stale = false;
  return {
    async value() {
      if (stale && file !== undefined) {
        stale = false;
        value = (await readFile(file, 'utf8').catch(() => undefined))?.trim() || value;
      }
      return value;
    },
    refused() {
      stale = true;
    },
  };
}
