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
}
