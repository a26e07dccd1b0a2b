/**
 * `kiosk pair`: the API's device pairing. Asks for a user code, shows it on the terminal and the
 * kiosk's display, waits until an operator confirms it in the merchant's back office, and stores
 * the refresh token (0600, atomically, see secret-file.ts). The token is never printed or logged.
 *
 * Exit codes for scripts (`pairExitCode`): 0 paired, 2 not confirmed in time or refused by the
 * operator, 3 the API could not be reached or answered nonsense, 4 the token could not be stored.
 */
import { pairDevice, OAuthError } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { FetchLike } from '../api/http.js';
import type { DeviceCodeResponse } from '../api/schemas.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { existsSync } from 'node:fs';
import { SecretFileError, readSecretFile, writeSecretFile } from './secret-file.js';

export interface PairOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Device id, e.g. `/vendor/muster/kiosk/k-0042` (config `api.deviceUuid`). */
  uuid: string;
  /** Where the refresh token goes (config `api.refreshTokenFile`). */
  tokenFile: string;
  /** One line of terminal output (stdout). */
  print: (line: string) => void;
  /** Lines for the kiosk's display (20 x 4); absent when there is none (e.g. run over ssh with the service up). */
  showOnDisplay?: (lines: string[]) => void | Promise<void>;
  fetch?: FetchLike;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface PairOutcome {
  tokenFile: string;
}

const DISPLAY_WIDTH = 20;

/** The verification address as short as it can be said on a 20-column display. */
function shortUrl(url: string): string {
  const bare = url.replace(/^https?:\/\//, '').replace(/^www\./, '');
  return bare.length <= DISPLAY_WIDTH ? bare : bare.slice(0, DISPLAY_WIDTH);
}

export function displayLinesForCode(code: DeviceCodeResponse): string[] {
  return [
    'Kiosk pairing',
    `Code: ${code.user_code}`,
    shortUrl(code.verification_url),
    `valid ${Math.round(code.expires_in / 60)} min`,
  ].map((l) => l.slice(0, DISPLAY_WIDTH));
}

export async function pairKiosk(opts: PairOptions): Promise<PairOutcome> {
  const logger = opts.logger ?? silentLogger;
  const shown: Array<Promise<void>> = [];
  const show = (lines: string[]): void => {
    if (!opts.showOnDisplay) return;
    shown.push(
      Promise.resolve()
        .then(() => opts.showOnDisplay?.(lines))
        .catch((err: unknown) => logger.warn({ err: String(err) }, 'pairing: display failed')),
    );
  };

  const result = await pairDevice({
    tokenUrl: opts.tokenUrl,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    uuid: opts.uuid,
    fetch: opts.fetch,
    sleep: opts.sleep,
    signal: opts.signal,
    logger,
    onUserCode: (code) => {
      opts.print(`Pairing kiosk ${opts.uuid}`);
      opts.print(`Open ${code.verification_url} and enter the code:  ${code.user_code}`);
      opts.print(
        `The code is valid for ${Math.round(code.expires_in / 60)} minutes. Waiting for confirmation...`,
      );
      show(displayLinesForCode(code));
    },
  });
  await Promise.all(shown);
  try {
    await writeSecretFile(opts.tokenFile, `${result.refreshToken}\n`);
    // Beside the refresh token, as secret (0600): the docs say to keep it for later device sessions.
    await writeSecretFile(deviceCodeFile(opts.tokenFile), `${result.deviceCode}\n`);
  } catch (err) {
    throw new PairingStoreError(opts.tokenFile, err);
  }
  opts.print(`Paired. The refresh token is stored in ${opts.tokenFile} (readable by its owner only).`);
  show(['Kiosk paired', 'OK']);
  await Promise.all(shown);
  return { tokenFile: opts.tokenFile };
}

/** Where the pairing's `device_code` is kept: next to the refresh token file. */
export function deviceCodeFile(tokenFile: string): string {
  return `${tokenFile}.device-code`;
}

/** What `kiosk pair` stored, for the running kiosk. */
export interface StoredPairing {
  refreshToken: string;
  /** Absent for a kiosk paired before the code was kept: a refused refresh token then needs a new pairing. */
  deviceCode?: string;
}

/**
 * Reads the pairing beside `tokenFile`; undefined when the kiosk was never paired. Secret files that
 * others can read are refused (see secret-file.ts): a leaked refresh token must be revoked, not used.
 */
export async function readPairing(tokenFile: string): Promise<StoredPairing | undefined> {
  if (!existsSync(tokenFile)) return undefined;
  const refreshToken = await readSecretFile(tokenFile);
  const codeFile = deviceCodeFile(tokenFile);
  const deviceCode = existsSync(codeFile) ? await readSecretFile(codeFile) : '';
  return { refreshToken, ...(deviceCode ? { deviceCode } : {}) };
}

/** Stores the refresh token a renewed device session answered with (0600, atomically). */
export async function storeRenewedRefreshToken(tokenFile: string, refreshToken: string): Promise<void> {
  await writeSecretFile(tokenFile, `${refreshToken}\n`);
}

export class PairingStoreError extends Error {
  override readonly name = 'PairingStoreError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `paired, but the token could not be stored in ${file}: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** The exit code and a one-line message for an error from `pairKiosk`. */
export function pairFailure(err: unknown): { code: number; message: string } {
  if (err instanceof PairingStoreError || err instanceof SecretFileError)
    return { code: 4, message: err.message };
  if (err instanceof OAuthError) {
    if (err.error === 'expired_token')
      return { code: 2, message: 'the code expired before anyone confirmed it: run kiosk pair again' };
    if (err.error === 'access_denied')
      return { code: 2, message: 'the pairing was refused in the back office' };
    return { code: 3, message: `the API refused pairing: ${err.message}` };
  }
  if (err instanceof ApiError) {
    if (err.kind === 'auth')
      return {
        code: 3,
        message: 'the API refused the client id or secret (check kiosk.json and secrets.env)',
      };
    return { code: 3, message: `the API could not be reached or answered wrongly: ${err.message}` };
  }
  return { code: 3, message: err instanceof Error ? err.message : String(err) };
}
