/**
 * What the running kiosk says of itself (KioskApp.summary()): the control port's `state` answer,
 * the status file, and what the test harness reads back. One shape for the app and its readers.
 */
export interface KioskSummary {
  state: string;
  flow: string | null;
  reason: string | null;
  acceptor: 'accepting' | 'inhibited';
  sessionId: string | null;
  inserted: number | null;
  journal: {
    openSessions: number;
    cashBoxCents: number;
    unclaimedVouchers: number;
    /** Set once an append failed: why, and the coins taken that the journal does not hold. */
    unwritable?: string;
    unjournaledCents?: number;
  };
  /** A vending counter: each slot's stock and block, the releases in doubt, the hopper. */
  vend?: VendSummary;
}

export interface VendSummary {
  slots: { id: string; product: number; stock: number; blocked: string | null }[];
  /** Releases whose outcome is unknown: never repeated, the operator settles them. */
  /** `amountUnknown`: a paid sale whose amount no record names (`cents` 0 means nothing). */
  releasesInDoubt: { jobId: string; slot: string; cents: number; amountUnknown?: boolean }[];
  /**
   * `coins`: what a simulated hopper holds; `booked`: the coins by the journal's books (fills and
   * take-outs from the service menu, minus payouts), null until a technician first books a fill;
   * `lowAt`: `hopper_low` at or below this many booked coins.
   */
  hopper: {
    coinCents: number;
    status: string;
    coins?: number;
    booked?: number | null;
    lowAt?: number;
  } | null;
}
