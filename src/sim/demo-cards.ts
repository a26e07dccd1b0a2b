/**
 * The stand-in's demo cards: the seeds' card plus one of each kind a kiosk must handle.
 * Listed by the simulator's "demo cards" key and used by the end-to-end tests.
 */
export type CardOwner = 'own' | 'other';

export interface LedgerCard {
  cardnumber: string;
  cash_balance: number;
  bonus_balance: number;
  points: number;
  lock_status: 'locked' | 'unlocked';
  stock_status: 'active' | 'inactive' | 'stored';
  passcode: number;
  group: string;
  owner: CardOwner;
  /** Customer name: the stand-in returns it like the real API; the kiosk must never show or log it. */
  customerName: string | null;
  note: string;
}

export const DEMO_CARDS: readonly LedgerCard[] = [
  {
    cardnumber: '9276004429942845',
    cash_balance: 251,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 0,
    group: 'Geschenkgutschein',
    owner: 'own',
    customerName: 'Max Mustermann',
    note: 'the seeds\u2019 card, 2,51 EUR',
  },
  {
    cardnumber: '9276000000000018',
    cash_balance: 0,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 0,
    group: 'Kundenkarte',
    owner: 'own',
    customerName: null,
    note: 'empty card',
  },
  {
    cardnumber: '9276000000000026',
    cash_balance: 2000,
    bonus_balance: 0,
    points: 0,
    lock_status: 'locked',
    stock_status: 'active',
    passcode: 0,
    group: 'Kundenkarte',
    owner: 'own',
    customerName: 'Erika Musterfrau',
    note: 'locked card',
  },
  {
    cardnumber: '9276000000000034',
    cash_balance: 1000,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 0,
    group: 'Fremdkarte',
    owner: 'other',
    customerName: null,
    note: 'card of another merchant (valid: false)',
  },
  {
    cardnumber: '9276000000000042',
    cash_balance: 500,
    bonus_balance: 750,
    points: 120,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 0,
    group: 'Bonuskarte',
    owner: 'own',
    customerName: 'Hans Bonus',
    note: 'cash 5,00 + bonus 7,50 EUR',
  },
  {
    cardnumber: '9276000000000059',
    cash_balance: 3000,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 0,
    group: 'Punkte',
    owner: 'own',
    customerName: null,
    note: 'rich card, 30,00 EUR',
  },
  {
    cardnumber: '9276000000000067',
    cash_balance: 800,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'inactive',
    passcode: 0,
    group: 'Kundenkarte',
    owner: 'own',
    customerName: null,
    note: 'inactive card',
  },
  {
    cardnumber: '9276000000000075',
    cash_balance: 900,
    bonus_balance: 0,
    points: 0,
    lock_status: 'unlocked',
    stock_status: 'active',
    passcode: 1,
    group: 'Kundenkarte',
    owner: 'own',
    customerName: null,
    note: 'card that needs a passcode',
  },
];
