/**
 * Customer stories as tables, in-process: each story is a list of `press / scan / coin` steps and
 * the display lines the customer then reads, run against the real session machines (actors are
 * the test doubles of fakes.ts) and `screenFor`, without a child process. Every story runs in
 * German and English on 16x2 and 20x4; a step lists the screens it checks (`de16`, `en20`, ...).
 * The e2e tests keep checking the wiring; these check what a customer is told, step by step.
 */
import assert from 'node:assert/strict';
import { checkoutMachine } from '../../machines/checkout.machine.js';
import type { HardwareEvent } from '../../machines/events.js';
import type { Lang } from '../../machines/messages.js';
import { screenFor } from '../../machines/screens.js';
import type { SessionConfig } from '../../machines/session-context.js';
import { topupMachine } from '../../machines/topup.machine.js';
import { CARD, card, run, stubs, type Stubs } from './fakes.js';

type Size = '16' | '20';
type Key = `${Lang}${Size}`;
type Step =
  | { press: string; then?: Partial<Record<Key, string[]>>; state?: string }
  | { scan: string; then?: Partial<Record<Key, string[]>>; state?: string }
  | { coin: number; then?: Partial<Record<Key, string[]>>; state?: string }
  /** TICKs of 250 ms (lines that take turns on a small display change every 3 s). */
  | { ticks: number; then?: Partial<Record<Key, string[]>>; state?: string }
  /** What the app reports mid-session (the printer running out of paper, ...). */
  | { send: HardwareEvent; then?: Partial<Record<Key, string[]>>; state?: string };

interface Story {
  name: string;
  flow: 'checkout' | 'topup';
  config?: Partial<SessionConfig>;
  arrange?: (s: Stubs) => void;
  steps: Step[];
  /** The money at the end: where every cent went. */
  end: { paid: number; credited: number; unclaimed: number };
}

const SIZE: Record<Size, { cols: 16 | 20; rows: 2 | 4 }> = {
  '16': { cols: 16, rows: 2 },
  '20': { cols: 20, rows: 4 },
};

const STORIES: Story[] = [
  {
    name: 'checkout: card pays part, the rest in coins, a coin too many goes onto the card',
    flow: 'checkout',
    arrange: (s) => {
      s.preTransaction.resolves({ missingSum: 150 });
      s.creditCard.resolves({ transactionId: 'STX_CREDIT', receipt: [], balance: 50 });
    },
    steps: [
      {
        press: 'amount1',
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 1,50 EUR', 'OK = Bezahlen'],
          de20: ['Summe 1,50 EUR', 'OK = Bezahlen', '1 Artikel', 'C = Abbruch'],
          en16: ['Total 1,50 EUR', 'OK = Pay'],
          en20: ['Total 1,50 EUR', 'OK = Pay', '1 items', 'C = Cancel'],
        },
      },
      {
        press: 'amount2',
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 4,00 EUR', 'OK = Bezahlen'],
          de20: ['Summe 4,00 EUR', 'OK = Bezahlen', '2 Artikel', 'C = Abbruch'],
          en16: ['Total 4,00 EUR', 'OK = Pay'],
          en20: ['Total 4,00 EUR', 'OK = Pay', '2 items', 'C = Cancel'],
        },
      },
      {
        scan: CARD,
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 4,00 EUR', 'OK = Bezahlen'],
          de20: ['Summe 4,00 EUR', 'OK = Bezahlen', 'Karte: Stammkunde', 'C = Abbruch'],
          en16: ['Total 4,00 EUR', 'OK = Pay'],
          en20: ['Total 4,00 EUR', 'OK = Pay', 'Card: Stammkunde', 'C = Cancel'],
        },
      },
      {
        press: 'ok',
        state: 'session.choosePayment.choosing',
        then: {
          de16: ['Zu zahlen 1,50', '1=Bar 2=Karte'],
          de20: ['Zu zahlen 1,50 EUR', '1=Bar 2=Karte', 'Von Karte 2,50 EUR', 'Kein Wechselgeld'],
          en16: ['To pay 1,50 EUR', '1=Cash 2=Card'],
          en20: ['To pay 1,50 EUR', '1=Cash 2=Card', 'From card 2,50 EUR', 'No change given'],
        },
      },
      {
        ticks: 12,
        state: 'session.choosePayment.choosing',
        then: {
          de16: ['Zu zahlen 1,50', '1=Bar 2=Karte'],
          de20: ['Zu zahlen 1,50 EUR', '1=Bar 2=Karte', 'Von Karte 2,50 EUR', 'C = Abbruch'],
          en16: ['To pay 1,50 EUR', '1=Cash 2=Card'],
          en20: ['To pay 1,50 EUR', '1=Cash 2=Card', 'From card 2,50 EUR', 'C = Cancel'],
        },
      },
      {
        press: 'amount1',
        state: 'session.collecting.waiting',
        then: {
          de16: ['Kein Wechselgeld', 'Noch 1,50 EUR'],
          de20: ['Bitte einwerfen', 'Noch 1,50 EUR', 'Kein Wechselgeld', 'C = Abbruch'],
          en16: ['No change given', 'Left 1,50 EUR'],
          en20: ['Insert money', 'Left 1,50 EUR', 'No change given', 'C = Cancel'],
        },
      },
      {
        ticks: 12,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 1,50 EUR'],
          de20: ['Bitte einwerfen', 'Noch 1,50 EUR', 'Kein Wechselgeld', 'Mehr: auf Karte'],
          en16: ['Insert money', 'Left 1,50 EUR'],
          en20: ['Insert money', 'Left 1,50 EUR', 'No change given', 'Extra: to card'],
        },
      },
      {
        coin: 200,
        state: 'farewell',
        then: {
          de16: ['Vielen Dank!', '0,50 auf Karte'],
          de20: ['Vielen Dank!', '0,50 EUR auf Karte', 'Gutschrift ...2845', 'Guthaben 0,50 EUR'],
          en16: ['Thank you!', '0,50 EUR to card'],
          en20: ['Thank you!', '0,50 EUR to card', 'Credited ...2845', 'Balance 0,50 EUR'],
        },
      },
    ],
    end: { paid: 150, credited: 50, unclaimed: 0 },
  },
  {
    name: 'checkout without a card: cancel after a coin, the voucher and its value',
    flow: 'checkout',
    steps: [
      {
        press: 'amount1',
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 1,50 EUR', 'OK = Bezahlen'],
          de20: ['Summe 1,50 EUR', 'OK = Bezahlen', '1 Artikel', 'C = Abbruch'],
          en16: ['Total 1,50 EUR', 'OK = Pay'],
          en20: ['Total 1,50 EUR', 'OK = Pay', '1 items', 'C = Cancel'],
        },
      },
      {
        press: 'ok',
        state: 'session.choosePayment.choosing',
        then: {
          de16: ['Zu zahlen 1,50', '1=Bar 2=Karte'],
          de20: ['Zu zahlen 1,50 EUR', '1=Bar 2=Karte', 'Kein Wechselgeld'],
          en16: ['To pay 1,50 EUR', '1=Cash 2=Card'],
          en20: ['To pay 1,50 EUR', '1=Cash 2=Card', 'No change given'],
        },
      },
      {
        coin: 100,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 0,50 EUR'],
          de20: ['Bitte einwerfen', 'Noch 0,50 EUR', 'Eingew. 1,00 EUR', 'Mehr: Gutschein'],
          en16: ['Insert money', 'Left 0,50 EUR'],
          en20: ['Insert money', 'Left 0,50 EUR', 'In 1,00 EUR', 'Extra: voucher'],
        },
      },
      {
        press: 'cancel',
        state: 'settling.showVoucher',
        then: {
          de16: ['Gutschein-Code:', 'V-0001'],
          de20: ['Gutschein-Code:', 'V-0001', 'Wert 1,00 EUR', 'Code aufbewahren'],
          en16: ['Voucher code:', 'V-0001'],
          en20: ['Voucher code:', 'V-0001', 'Value 1,00 EUR', 'Keep this code'],
        },
      },
      {
        press: 'ok',
        state: 'farewell',
        then: {
          de16: ['Abgebrochen', 'Gutschein 1,00'],
          de20: ['Abgebrochen', 'Gutschein 1,00 EUR', 'V-0001', 'Auf Wiedersehen'],
          en16: ['Cancelled', 'Voucher 1,00 EUR'],
          en20: ['Cancelled', 'Voucher 1,00 EUR', 'V-0001', 'Goodbye'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 100 },
  },
  {
    name: 'checkout: the card pays everything, asked with amount and balance',
    flow: 'checkout',
    steps: [
      {
        press: 'amount2',
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 2,50 EUR', 'OK = Bezahlen'],
          de20: ['Summe 2,50 EUR', 'OK = Bezahlen', '1 Artikel', 'C = Abbruch'],
          en16: ['Total 2,50 EUR', 'OK = Pay'],
          en20: ['Total 2,50 EUR', 'OK = Pay', '1 items', 'C = Cancel'],
        },
      },
      {
        scan: CARD,
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 2,50 EUR', 'OK = Bezahlen'],
          de20: ['Summe 2,50 EUR', 'OK = Bezahlen', 'Karte: Stammkunde', 'C = Abbruch'],
          en16: ['Total 2,50 EUR', 'OK = Pay'],
          en20: ['Total 2,50 EUR', 'OK = Pay', 'Card: Stammkunde', 'C = Cancel'],
        },
      },
      {
        press: 'ok',
        state: 'session.confirmLoyalty',
        then: {
          de16: ['Von Karte 2,50', 'OK=Ja C=Abbruch'],
          de20: ['Von Karte 2,50 EUR', 'OK=Ja C=Abbruch', 'Guthaben 12,50 EUR', 'Karte: Stammkunde'],
          en16: ['From card 2,50', 'OK=Yes C=Cancel'],
          en20: ['From card 2,50 EUR', 'OK=Yes C=Cancel', 'Balance 12,50 EUR', 'Card: Stammkunde'],
        },
      },
      {
        press: 'ok',
        state: 'farewell',
        then: {
          de16: ['Vielen Dank!', 'Guthaben 22,50'],
          de20: ['Vielen Dank!', 'Guthaben 22,50 EUR'],
          en16: ['Thank you!', 'Balance 22,50'],
          en20: ['Thank you!', 'Balance 22,50 EUR'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 0 },
  },
  {
    name: 'checkout at the card terminal: the amount it will charge',
    flow: 'checkout',
    arrange: (s) => s.startPayment.callsFake(() => new Promise(() => {})),
    steps: [
      {
        press: 'amount3',
        state: 'session.basket.browsing',
        then: {
          de16: ['Summe 0,90 EUR', 'OK = Bezahlen'],
          de20: ['Summe 0,90 EUR', 'OK = Bezahlen', '1 Artikel', 'C = Abbruch'],
          en16: ['Total 0,90 EUR', 'OK = Pay'],
          en20: ['Total 0,90 EUR', 'OK = Pay', '1 items', 'C = Cancel'],
        },
      },
      {
        press: 'ok',
        state: 'session.choosePayment.choosing',
        then: {
          de16: ['Zu zahlen 0,90', '1=Bar 2=Karte'],
          de20: ['Zu zahlen 0,90 EUR', '1=Bar 2=Karte', 'Kein Wechselgeld'],
          en16: ['To pay 0,90 EUR', '1=Cash 2=Card'],
          en20: ['To pay 0,90 EUR', '1=Cash 2=Card', 'No change given'],
        },
      },
      {
        press: 'amount2',
        state: 'pay.starting',
        then: {
          de16: ['Terminal 0,90', 'Karte vorhalten'],
          de20: ['Terminal 0,90 EUR', 'Karte vorhalten', 'Kartenterminal'],
          en16: ['Terminal 0,90', 'Present card'],
          en20: ['Terminal 0,90 EUR', 'Present card', 'Card terminal'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 0 },
  },
  {
    name: 'top-up: money inserted on the balance screen is an open amount',
    flow: 'topup',
    steps: [
      {
        scan: CARD,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'Betrag wählen'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'Karte: Stammkunde', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'Choose amount'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'Card: Stammkunde', '1=5 2=10 3=20'],
        },
      },
      {
        ticks: 12,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'oder einwerfen'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'oder einwerfen', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'or insert money'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'or insert money', '1=5 2=10 3=20'],
        },
      },
      {
        coin: 200,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Geld einwerfen', 'Eingew. 2,00 EUR'],
          de20: ['Geld einwerfen', 'Eingew. 2,00 EUR', 'OK = Aufladen', 'C = Abbruch'],
          en16: ['Insert money', 'In 2,00 EUR'],
          en20: ['Insert money', 'In 2,00 EUR', 'OK = Top up', 'C = Cancel'],
        },
      },
      {
        coin: 100,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Geld einwerfen', 'Eingew. 3,00 EUR'],
          de20: ['Geld einwerfen', 'Eingew. 3,00 EUR', 'OK = Aufladen', 'C = Abbruch'],
          en16: ['Insert money', 'In 3,00 EUR'],
          en20: ['Insert money', 'In 3,00 EUR', 'OK = Top up', 'C = Cancel'],
        },
      },
      {
        press: 'ok',
        state: 'farewell',
        then: {
          de16: ['Vielen Dank!', 'Guthaben 22,50'],
          de20: ['Vielen Dank!', 'Guthaben 22,50 EUR'],
          en16: ['Thank you!', 'Balance 22,50'],
          en20: ['Thank you!', 'Balance 22,50 EUR'],
        },
      },
    ],
    end: { paid: 300, credited: 0, unclaimed: 0 },
  },
  {
    name: 'top-up: cancelled after a coin, the money is on the card and the screen says so',
    flow: 'topup',
    arrange: (s) => s.creditCard.resolves({ transactionId: 'STX_CREDIT', receipt: [], balance: 1450 }),
    steps: [
      {
        scan: CARD,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'Betrag wählen'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'Karte: Stammkunde', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'Choose amount'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'Card: Stammkunde', '1=5 2=10 3=20'],
        },
      },
      {
        press: 'amount1',
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 5,00 EUR'],
          de20: ['Bitte einwerfen', 'Noch 5,00 EUR', 'Eingew. 0,00 EUR', 'OK = Aufladen'],
          en16: ['Insert money', 'Left 5,00 EUR'],
          en20: ['Insert money', 'Left 5,00 EUR', 'In 0,00 EUR', 'OK = Top up'],
        },
      },
      {
        coin: 200,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 3,00 EUR'],
          de20: ['Bitte einwerfen', 'Noch 3,00 EUR', 'Eingew. 2,00 EUR', 'OK = Aufladen'],
          en16: ['Insert money', 'Left 3,00 EUR'],
          en20: ['Insert money', 'Left 3,00 EUR', 'In 2,00 EUR', 'OK = Top up'],
        },
      },
      {
        press: 'cancel',
        state: 'farewell',
        then: {
          de16: ['Abgebrochen', '2,00 auf Karte'],
          de20: ['Abgebrochen', '2,00 EUR auf Karte', 'Gutschrift ...2845', 'Auf Wiedersehen'],
          en16: ['Cancelled', '2,00 EUR to card'],
          en20: ['Cancelled', '2,00 EUR to card', 'Credited ...2845', 'Goodbye'],
        },
      },
    ],
    end: { paid: 0, credited: 200, unclaimed: 0 },
  },
  {
    name: 'top-up with paper out: told before paying that there is no receipt',
    flow: 'topup',
    config: { receiptPossible: false },
    steps: [
      {
        press: 'ok',
        state: 'session.scanCard',
        then: {
          de16: ['Karte scannen', 'zum Aufladen'],
          de20: ['Karte scannen', 'zum Aufladen', 'Kein Beleg mögl.', 'C = Abbruch'],
          en16: ['Scan your card', 'to top up'],
          en20: ['Scan your card', 'to top up', 'No receipt', 'C = Cancel'],
        },
      },
      {
        ticks: 12,
        state: 'session.scanCard',
        then: {
          de16: ['Karte scannen', 'Kein Beleg mögl.'],
          de20: ['Karte scannen', 'zum Aufladen', 'Kein Beleg mögl.', 'C = Abbruch'],
          en16: ['Scan your card', 'No receipt'],
          en20: ['Scan your card', 'to top up', 'No receipt', 'C = Cancel'],
        },
      },
      {
        scan: CARD,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'oder einwerfen'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'Kein Beleg mögl.', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'or insert money'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'No receipt', '1=5 2=10 3=20'],
        },
      },
      {
        ticks: 12,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'Kein Beleg mögl.'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'Kein Beleg mögl.', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'No receipt'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'No receipt', '1=5 2=10 3=20'],
        },
      },
      {
        ticks: 12,
        state: 'session.chooseAmount',
        then: {
          de16: ['Guthaben 12,50', 'Betrag wählen'],
          de20: ['Guthaben 12,50 EUR', 'Betrag wählen', 'Kein Beleg mögl.', '1=5 2=10 3=20'],
          en16: ['Balance 12,50', 'Choose amount'],
          en20: ['Balance 12,50 EUR', 'Choose amount', 'No receipt', '1=5 2=10 3=20'],
        },
      },
      {
        press: 'cancel',
        state: 'farewell',
        then: {
          de16: ['Abgebrochen', 'Auf Wiedersehen'],
          de20: ['Abgebrochen', 'Auf Wiedersehen'],
          en16: ['Cancelled', 'Goodbye'],
          en20: ['Cancelled', 'Goodbye'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 0 },
  },
  {
    name: 'top-up: the paper runs out while coins go in: said before the rest is paid; the receipt kept, the farewell says staff reprint it',
    flow: 'topup',
    // The app's print: the receipt is journaled, then the printer refuses (kiosk-app print()).
    arrange: (s) =>
      s.print.rejects(
        Object.assign(new Error('printer is out of paper'), { kept: true, receiptNo: 'k-0042-00007' }),
      ),
    steps: [
      { press: 'ok', state: 'session.scanCard' },
      { scan: CARD, state: 'session.chooseAmount' },
      {
        press: 'amount1',
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 5,00 EUR'],
          de20: ['Bitte einwerfen', 'Noch 5,00 EUR', 'Eingew. 0,00 EUR', 'OK = Aufladen'],
        },
      },
      { coin: 200 },
      {
        send: { type: 'DEVICE', device: 'printer', health: 'offline', detail: 'paper_out' },
        state: 'session.collecting.waiting',
        then: {
          de16: ['Bitte einwerfen', 'Noch 3,00 EUR'],
          de20: ['Bitte einwerfen', 'Noch 3,00 EUR', 'Eingew. 2,00 EUR', 'OK = Aufladen'],
          en16: ['Insert money', 'Left 3,00 EUR'],
        },
      },
      {
        ticks: 12,
        state: 'session.collecting.waiting',
        then: {
          de16: ['Kein Beleg mögl.', 'Noch 3,00 EUR'],
          de20: ['Bitte einwerfen', 'Noch 3,00 EUR', 'Eingew. 2,00 EUR', 'Kein Beleg mögl.'],
          en16: ['No receipt', 'Left 3,00 EUR'],
          en20: ['Insert money', 'Left 3,00 EUR', 'In 2,00 EUR', 'No receipt'],
        },
      },
      { coin: 200 },
      {
        coin: 100,
        state: 'farewell',
        then: {
          de16: ['Vielen Dank!', 'Nr. k-0042-00007'],
          de20: ['Vielen Dank!', 'Guthaben 22,50 EUR', 'Beleg beim Personal', 'Nr. k-0042-00007'],
          en16: ['Thank you!', 'No. k-0042-00007'],
          en20: ['Thank you!', 'Balance 22,50 EUR', 'Receipt: ask staff', 'No. k-0042-00007'],
        },
      },
      {
        ticks: 12,
        state: 'farewell',
        then: {
          de16: ['Vielen Dank!', 'Guthaben 22,50'],
          en16: ['Thank you!', 'Balance 22,50'],
        },
      },
      {
        ticks: 12,
        state: 'farewell',
        then: { de16: ['Vielen Dank!', 'Beleg: Personal'], en16: ['Thank you!', 'Receipt: staff'] },
      },
    ],
    end: { paid: 500, credited: 0, unclaimed: 0 },
  },
  {
    name: 'checkout with change: the paper runs out at the payment choice: said there and while coins go in; back again, not said',
    flow: 'checkout',
    config: { givesChange: true, changeCoin: 10 },
    arrange: (s) => s.startPayment.callsFake(() => new Promise(() => {})),
    steps: [
      { press: 'amount3', state: 'session.basket.browsing' },
      {
        press: 'ok',
        state: 'session.choosePayment.choosing',
        then: { de16: ['Zu zahlen 0,90', '1=Bar 2=Karte'] },
      },
      {
        send: { type: 'DEVICE', device: 'printer', health: 'offline', detail: 'paper_out' },
        then: {
          de16: ['Zu zahlen 0,90', '1=Bar 2=Karte'],
          de20: ['Zu zahlen 0,90 EUR', '1=Bar 2=Karte', 'Kein Beleg mögl.'],
        },
      },
      {
        ticks: 12,
        then: {
          de16: ['Zu zahlen 0,90', 'Kein Beleg mögl.'],
          en16: ['To pay 0,90 EUR', 'No receipt'],
        },
      },
      {
        press: 'amount1',
        state: 'session.collecting.waiting',
        then: {
          de16: ['Kein Beleg mögl.', 'Noch 0,90 EUR'],
          de20: ['Bitte einwerfen', 'Noch 0,90 EUR', 'Eingew. 0,00 EUR', 'C = Abbruch'],
          en20: ['Insert money', 'Left 0,90 EUR', 'In 0,00 EUR', 'C = Cancel'],
        },
      },
      {
        ticks: 12,
        then: {
          de16: ['Bitte einwerfen', 'Noch 0,90 EUR'],
          de20: ['Bitte einwerfen', 'Noch 0,90 EUR', 'Eingew. 0,00 EUR', 'Kein Beleg mögl.'],
        },
      },
      {
        send: { type: 'DEVICE', device: 'printer', health: 'ok' },
        then: {
          de20: ['Bitte einwerfen', 'Noch 0,90 EUR', 'Eingew. 0,00 EUR', 'C = Abbruch'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 0 },
  },
  {
    name: 'checkout at the card terminal: the paper runs out at the payment choice: said at the terminal too',
    flow: 'checkout',
    arrange: (s) => s.startPayment.callsFake(() => new Promise(() => {})),
    steps: [
      { press: 'amount3', state: 'session.basket.browsing' },
      { press: 'ok', state: 'session.choosePayment.choosing' },
      { send: { type: 'DEVICE', device: 'printer', health: 'offline', detail: 'paper_out' } },
      {
        press: 'amount2',
        state: 'pay.starting',
        then: {
          de16: ['Terminal 0,90', 'Karte vorhalten'],
          de20: ['Terminal 0,90 EUR', 'Karte vorhalten', 'Kartenterminal', 'Kein Beleg mögl.'],
          en20: ['Terminal 0,90 EUR', 'Present card', 'Card terminal', 'No receipt'],
        },
      },
    ],
    end: { paid: 0, credited: 0, unclaimed: 0 },
  },
];

async function play(story: Story): Promise<void> {
  const s = stubs();
  story.arrange?.(s);
  const h = run(story.flow === 'checkout' ? checkoutMachine : topupMachine, {
    stubs: s,
    ...(story.config ? { config: story.config } : {}),
  });
  let now = 0;
  for (const [i, step] of story.steps.entries()) {
    if ('press' in step) await h.press(step.press);
    else if ('scan' in step) await h.send({ type: 'SCAN', data: step.scan });
    else if ('coin' in step) await h.coins(step.coin);
    else if ('send' in step) await h.send(step.send);
    else for (let n = 0; n < step.ticks; n++) await h.send({ type: 'TICK', now: (now += 250) });
    await h.flushAll();
    const what = `${story.name}, step ${i + 1} (${JSON.stringify(step).slice(0, 40)})`;
    if (step.state) assert.equal(h.value(), step.state, what);
    for (const [key, want] of Object.entries(step.then ?? {})) {
      const lang = key.slice(0, 2) as Lang;
      const size = SIZE[key.slice(2) as Size];
      const got = screenFor(h.snapshot, { ...size, lang, strict: true });
      const padded = [...want, '', '', '', ''].slice(0, size.rows);
      assert.deepEqual(got, padded, `${what}: ${key}`);
    }
  }
  const c = h.context;
  assert.deepEqual({ paid: c.paid, credited: c.credited, unclaimed: c.unclaimed }, story.end, story.name);
  assert.equal(c.inserted, c.paid + c.credited + c.unclaimed, `${story.name}: every cent accounted for`);
}

describe('customer stories (tables, in-process, de/en, 16x2/20x4)', () => {
  for (const story of STORIES) it(story.name, () => play(story));
});

export { STORIES, play, CARD, card };
