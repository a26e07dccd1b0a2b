/**
 * What the kiosk machine starts with (its `config` input): the mode, the session's catalogue (with
 * the slot each product is sold from), stock, change and coins the devices allow, amounts, timeouts
 * and the service menu's PIN rules, read from the configuration, the vending books and the devices.
 */
import type { VendJournal } from '../bookkeeping/vend-journal.js';
import type { KioskConfig } from '../config/config-schema.js';
import type { Devices } from './devices.js';

export function kioskMachineInput(
  c: KioskConfig,
  vend: Pick<VendJournal, 'slotFor' | 'available'>,
  devices: Pick<Devices, 'hopper' | 'acceptor'>,
) {
  return {
    mode: c.kiosk.mode,
    receiptsRequired: c.receipts.mandatory,
    recheckMs: c.timeouts.recheckMs,
    session: {
      cardPattern: c.cardPattern,
      catalogue: c.catalogue.map((p) => {
        const slot = vend.slotFor(p.id)?.id;
        return {
          id: p.id,
          desc: p.desc,
          ean: p.ean,
          priceOne: p.priceOne,
          tax: p.tax,
          ...(slot ? { slot } : {}),
        };
      }),
      slotStock: vend.available(),
      changeCoin: devices.hopper?.coinCents ?? null,
      // An empty, jammed or offline hopper pays nothing: the flows hear of it with STOCK.
      givesChange: devices.hopper?.status === 'ok',
      // Per-coin inhibit: the flows ask only for coins the customer can use (machines/accepted-coins.ts).
      coinValues: [...devices.acceptor.coinValues],
      topupAmounts: c.topup.amounts,
      maxTopup: c.topup.maxCents,
      terminal: c.kiosk.cardTerminal,
      inactivityMs: c.timeouts.inactivityMs,
      warningMs: c.timeouts.warningMs,
      messageMs: c.timeouts.resultMs,
      cashlessLimitMs: c.timeouts.terminalMs,
      noEffectReads: c.api.noEffectReads,
    },
    service: {
      pinLength: c.service.pinLength,
      maxTries: c.service.maxTries,
      lockoutMs: c.service.lockoutMs,
      idleMs: c.service.idleMs,
    },
  };
}
