/** The machines that get a generated diagram page in docs/machines/, with a one-line summary each. */
import { checkoutMachine } from './checkout.machine.js';
import { machinePage } from './diagram.js';
import { kioskMachine } from './kiosk.machine.js';
import { serviceMenuMachine } from './service-menu.machine.js';
import { topupMachine } from './topup.machine.js';

export const MACHINE_PAGES = [
  {
    name: 'checkout',
    render: () =>
      machinePage(
        'checkout',
        checkoutMachine,
        'The vending counter: basket, optional loyalty card, payment by card balance, cash or terminal, settling of left-over money. See docs/flows.md.',
      ),
  },
  {
    name: 'topup',
    render: () =>
      machinePage(
        'topup',
        topupMachine,
        'The top-up kiosk: card, amount, cash in, top-up product with start/cash, settling of left-over money. See docs/flows.md.',
      ),
  },
  {
    name: 'kiosk',
    render: () =>
      machinePage(
        'kiosk',
        kioskMachine,
        "The kiosk's life: boot, self-test, recovery, idle, serving a session, maintenance, out of service.",
      ),
  },
  {
    name: 'service-menu',
    render: () =>
      machinePage(
        'service-menu',
        serviceMenuMachine,
        "The technician's menu in maintenance: PIN with lock-out, info, test print, device test, cash collection, reprint, slot stock, unsettled vends (releases in doubt), change hopper, card terminal, leave. See docs/flows.md and docs/operations.md.",
      ),
  },
];
