/**
 * The machines' clock (the `now` of every `TICK`, and the screen's): the card terminal's deadline, the
 * "takes long" line and the service menu's lockout and idle limit are kept in context against it.
 * It is monotonic: the Pi has no real-time clock and its wall clock jumps by hours when time sync
 * arrives (or an operator sets it), which on `Date.now()` ended a terminal payment at once (forward)
 * or kept a PIN lockout for hours (back). Epoch-like (process start on the wall clock + monotonic
 * time since) so that its values read as times in logs; never compare it with `Date.now()`.
 */
const origin = performance.timeOrigin;

export function machineClock(): number {
  return Math.round(origin + performance.now());
}
