/**
 * The API client as the kiosk builds it from its configuration: the endpoints (the configured ones,
 * or the in-process stand-in's when `api.baseUrl` is `standin`), the token manager with the grant the
 * stored device pairing allows, and the Smart Transactions client under `findingLostCreates`. The
 * session journal's wrapping, the terminal's duties and recovery are the composition root's.
 */
import { TokenManager, type AuthConfig } from '../api/auth.js';
import type { ApiError } from '../api/errors.js';
import { SmartTransactionsClient } from '../api/client.js';
import { findingLostCreates } from '../api/lost-create.js';
import type { SmartTransactionsApi } from '../api/types.js';
import type { KioskConfig } from '../config/config-schema.js';
import { readPairing, storeRenewedRefreshToken, type StoredPairing } from '../ops/pair.js';
import type { StandIn } from '../sim/api-server.js';
import type { ProfileSelection } from '../sim/profiles.js';
import type { Logger } from '../util/logger.js';

export interface ApiEndpoints {
  baseUrl: string;
  tokenUrl: string | undefined;
  /** The stand-in, when it serves the API (closed by the kiosk at stop). */
  standIn: StandIn | undefined;
}

/** The configured endpoints, or the stand-in's (an HTTP server and its ledger, started here). */
export async function apiEndpoints(c: KioskConfig, logger: Logger): Promise<ApiEndpoints> {
  let baseUrl = c.api.baseUrl;
  let tokenUrl = c.api.tokenUrl;
  let standIn: StandIn | undefined;
  if (baseUrl === 'standin') {
    // the stand-in (an HTTP server and its ledger) is for the simulator only: loaded when configured
    const { startApiStandIn } = await import('../sim/api-server.js');
    standIn = await startApiStandIn({
      port: c.api.standIn.port,
      ledgerPath: c.api.standIn.ledger,
      terminalDelayMs: c.api.standIn.terminalDelayMs,
      profile: c.api.standIn.profile as ProfileSelection,
      logger,
    });
    baseUrl = standIn.baseUrl;
    tokenUrl = standIn.tokenUrl;
  }
  return { baseUrl, tokenUrl, standIn };
}

/**
 * The grant: none usable (`unusable`, the token file is loosened or unreadable: every token call
 * fails "pair again"), the stored device pairing's refresh token, or the client's credentials.
 */
export function authFor(
  api: Pick<KioskConfig['api'], 'clientId' | 'clientSecret'>,
  pairing: StoredPairing | undefined,
  unusable: string | undefined,
): AuthConfig {
  return unusable
    ? { grant: 'refresh_token', clientId: api.clientId, clientSecret: '', refreshToken: '' }
    : pairing
      ? {
          grant: 'refresh_token',
          clientId: api.clientId,
          clientSecret: api.clientSecret ?? '',
          refreshToken: pairing.refreshToken,
          ...(pairing.deviceCode ? { deviceCode: pairing.deviceCode } : {}),
        }
      : { grant: 'client_credentials', clientId: api.clientId, clientSecret: api.clientSecret ?? '' };
}

export interface ApiClientParts {
  tokens: TokenManager;
  /** The client under `findingLostCreates` (not under the session journal). */
  client: SmartTransactionsApi;
  /** Why the device pairing is unusable, when the token file could not be read. */
  pairingLost: string | undefined;
}

export async function apiClient(
  c: KioskConfig,
  endpoints: Pick<ApiEndpoints, 'baseUrl' | 'tokenUrl'>,
  logger: Logger,
  onPairingLost: (err: ApiError) => void,
): Promise<ApiClientParts> {
  const { baseUrl } = endpoints;
  const tokenUrl = endpoints.tokenUrl ?? new URL('/oauth/token', baseUrl).toString();
  const tokenFile = c.api.refreshTokenFile;
  let pairing: StoredPairing | undefined;
  let pairingLost: string | undefined;
  try {
    pairing = tokenFile ? await readPairing(tokenFile) : undefined;
  } catch (err) {
    // A loosened or unreadable token file: out of service "pair again", not a crash loop.
    pairingLost = `pairing unusable: ${(err as Error).message}`;
    logger.error({ err: (err as Error).message }, 'device pairing unusable');
  }
  const tokens = new TokenManager({
    tokenUrl,
    auth: authFor(c.api, pairing, pairingLost),
    logger,
    timeoutMs: c.api.timeoutMs,
    ...(tokenFile ? { onRenewedPairing: (token: string) => storeRenewedRefreshToken(tokenFile, token) } : {}),
    onPairingLost,
    ...(pairingLost ? { unusablePairing: pairingLost } : {}),
  });
  const client = new SmartTransactionsClient({
    baseUrl,
    tokens,
    timeoutMs: c.api.timeoutMs,
    cashlessTimeoutMs: c.api.cashlessTimeoutMs,
    logger,
  });
  // Under the journal: a create found again after a lost answer is journaled like any create.
  return { tokens, client: findingLostCreates(client, logger), pairingLost };
}
