/** A stand-in plus a client wired to it, for tests that drive the API end to end. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from '../../src/api/auth.js';
import { SmartTransactionsClient } from '../../src/api/client.js';
import { DEMO_CLIENT, startApiStandIn, type StandIn, type StandInOptions } from '../../src/sim/api-server.js';
import type { CreateTransaction } from '../../src/api/schemas.js';
import { TOPUP_EAN } from '../../src/api/schemas.js';

export interface ApiRig {
  standIn: StandIn;
  client: SmartTransactionsClient;
  tokens: TokenManager;
  dir: string;
  close(): Promise<void>;
}

export async function startRig(opts: StandInOptions & { timeoutMs?: number } = {}): Promise<ApiRig> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-api-'));
  const standIn = await startApiStandIn({ ledgerPath: join(dir, 'ledger.json'), ...opts });
  const tokens = new TokenManager({
    tokenUrl: standIn.tokenUrl,
    auth: { grant: 'client_credentials', ...DEMO_CLIENT },
  });
  const client = new SmartTransactionsClient({
    baseUrl: standIn.baseUrl,
    tokens,
    timeoutMs: opts.timeoutMs ?? 2000,
  });
  return {
    standIn,
    client,
    tokens,
    dir,
    close: async () => {
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SEED_CARD = '9276004429942845';

/** The seeds' basket: sandwich 3,49 (7 %), fruit salad 2,49 (7 %), 2 x water 0,99 (19 %) = 7,96 EUR. */
export function seedBasket(card?: string): CreateTransaction {
  return {
    basket: {
      type: 'default',
      products: [
        {
          id: 1,
          item_type: 'article',
          articleNumber: '30037',
          ean: '',
          desc: 'Sandwich Romano',
          quantity: 1,
          priceOne: 349,
          tax: 7,
        },
        {
          id: 2,
          item_type: 'article',
          articleNumber: '30200',
          ean: '',
          desc: 'Fruit salad, small bowl',
          quantity: 1,
          priceOne: 249,
          tax: 7,
        },
        {
          id: 3,
          item_type: 'article',
          articleNumber: '51',
          ean: '4999012345678',
          desc: 'Water, mildly sprinkling, 0.25 ltr.',
          quantity: 2,
          priceOne: 99,
          tax: 19,
        },
      ],
    },
    basket_info: { sum: 796, currency: 'EUR' },
    intent: 'sale',
    ...(card ? { idents: [{ type: 'card' as const, value: card }] } : {}),
  };
}

export function topUpBasket(card: string, cents: number): CreateTransaction {
  return {
    basket: {
      type: 'default',
      products: [
        {
          id: 1,
          item_type: 'article',
          articleNumber: '',
          ean: TOPUP_EAN,
          desc: `Kartenaufladung`,
          quantity: 1,
          priceOne: cents,
          tax: 0,
        },
      ],
    },
    basket_info: { sum: cents, currency: 'EUR' },
    intent: 'sale',
    idents: [{ type: 'card', value: card }],
  };
}
