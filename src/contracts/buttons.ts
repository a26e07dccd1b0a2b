/**
 * The kiosk's button names: the machines react to these, the drivers report them, and the
 * configuration may wire only these (a misspelt name is refused when the config loads instead of
 * being a button that silently does nothing).
 */
export const BUTTON_NAMES = [
  'ok',
  'cancel',
  'up',
  'down',
  'amount1',
  'amount2',
  'amount3',
  'amount4',
  'service',
] as const;

export type ButtonName = (typeof BUTTON_NAMES)[number];

export const isButtonName = (name: string): name is ButtonName =>
  (BUTTON_NAMES as readonly string[]).includes(name);
