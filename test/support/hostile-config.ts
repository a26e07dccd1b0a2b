/**
 * Desired-config documents an attacker with an operator account would send: one per field the fleet
 * must never set (src/app/fleet-config-policy.ts), each pointing at `attacker` where a host is asked for.
 */
export function forbiddenDesiredFields(
  attacker: string,
): Array<[field: string, part: Record<string, unknown>]> {
  const host = new URL(attacker).host;
  return [
    ['api.baseUrl', { api: { baseUrl: `${attacker}/api/v2` } }],
    ['api.tokenUrl', { api: { tokenUrl: `${attacker}/oauth/token` } }],
    ['api.clientId', { api: { clientId: 'someone-else' } }],
    ['api.clientSecret', { api: { clientSecret: 'x' } }],
    ['api.refreshTokenFile', { api: { refreshTokenFile: '/etc/shadow' } }],
    ['api.deviceUuid', { api: { deviceUuid: '/other' } }],
    ['api.isDemo', { api: { isDemo: true } }],
    ['api.standIn', { api: { standIn: { port: 1 } } }],
    ['api.timeoutMs', { api: { timeoutMs: 1 } }],
    ['kiosk.id', { kiosk: { id: 'k-other' } }],
    ['kiosk.mode', { kiosk: { mode: 'checkout' } }],
    ['kiosk.cardTerminal', { kiosk: { cardTerminal: false } }],
    ['hardware.coin', { hardware: { coin: { driver: 'simulated' } } }],
    ['hardware.buttons', { hardware: { buttons: { driver: 'gpio', pins: { ok: 4 } } } }],
    ['hardware.gpioSysfsRoot', { hardware: { gpioSysfsRoot: '/tmp' } }],
    ['sim.controlPort', { sim: { controlPort: 7070 } }],
    ['sim.controlPortWithRealAcceptor', { sim: { controlPortWithRealAcceptor: true } }],
    ['sim.coins', { sim: { coins: [1] } }],
    ['fleet.url', { fleet: { url: `mqtt://${host}` } }],
    ['fleet.password', { fleet: { password: 'x' } }],
    ['fleet.outboxDir', { fleet: { outboxDir: '/tmp/x' } }],
    ['journal.dir', { journal: { dir: '/tmp/elsewhere' } }],
    ['journal.onApiDown', { journal: { onApiDown: 'serve' } }],
    ['service.pinHash', { service: { pinHash: `scrypt:${'0'.repeat(16)}:${'0'.repeat(32)}` } }],
    ['cardPattern', { cardPattern: '^\\d{4}$' }],
    ['cardPattern', { cardPattern: { prefix: '', minLength: 1, maxLength: 32 } }],
    ['receipts.maskCardNumber', { receipts: { maskCardNumber: false } }],
    ['receipts.mandatory', { receipts: { mandatory: false } }],
  ];
}
