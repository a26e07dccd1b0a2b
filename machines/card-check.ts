/**
 * Whether a looked-up card can be used at this kiosk for this flow. An unattended kiosk cannot take
 * a passcode, so a card that needs one for what the customer wants is refused with its own message.
 */
import type { CardInfo } from './ports.js';

export type CardProblem = 'unknown' | 'not_valid' | 'locked' | 'inactive' | 'passcode';

/**
 * Passcode settings (API docs): 1 always, 2 before discharge, 3 before charge, 4 before sale, 5/6 points.
 * Checkout redeems balance (discharge), sells and collects points; top-up charges.
 */
const PASSCODE_BLOCKS: Record<'checkout' | 'topup', readonly number[]> = {
  checkout: [1, 2, 4, 5, 6],
  topup: [1, 3],
};

export function cardProblem(card: CardInfo, flow: 'checkout' | 'topup'): CardProblem | null {
  if (!card.valid) return 'not_valid';
  if (card.lockStatus === 'locked') return 'locked';
  if (card.stockStatus !== 'active') return 'inactive';
  if (PASSCODE_BLOCKS[flow].includes(card.passcode)) return 'passcode';
  return null;
}
