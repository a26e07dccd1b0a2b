/** `npm run sim:api -- --port 8080 [--ledger var/ledger.json] [--auto-confirm-ms 3000] [--profile read-lag]` */
import { parseArgs } from 'node:util';
import { formatCents } from '../api/money.js';
import { DEMO_CARDS } from './demo-cards.js';
import { DEMO_CLIENT, startApiStandIn } from './api-server.js';
import { PROFILE_NAMES, isProfileName } from './profiles.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    ledger: { type: 'string', default: 'var/sim-ledger.json' },
    'auto-confirm-ms': { type: 'string' },
    'terminal-delay-ms': { type: 'string', default: '1500' },
    profile: { type: 'string', default: 'default' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}

if (!isProfileName(values.profile)) {
  console.error(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got ${values.profile}`);
  process.exit(2);
}

const standIn = await startApiStandIn({
  profile: values.profile,
  port,
  host: values.host,
  ledgerPath: values.ledger,
  autoConfirmDeviceMs: values['auto-confirm-ms'] ? Number(values['auto-confirm-ms']) : undefined,
  terminalDelayMs: Number(values['terminal-delay-ms']),
});

console.log(`Smart Transactions API stand-in on ${standIn.baseUrl}
  token:    POST ${standIn.tokenUrl}  (client_id ${DEMO_CLIENT.clientId}, client_secret ${DEMO_CLIENT.clientSecret})
  ledger:   ${values.ledger}  (GET ${standIn.url}/__sim/ledger)
  faults:   POST ${standIn.url}/__sim/faults  {"path":"/start/cash","fault":{"type":"drop_after_commit"}}
  pairing:  POST ${standIn.url}/__sim/device/confirm  {"user_code":"ABCD-1234"}
  profile:  ${values.profile}  (POST ${standIn.url}/__sim/profile  {"name":"read-lag"}; ${PROFILE_NAMES.join(', ')})
Demo cards:`);
for (const c of DEMO_CARDS) {
  const card = standIn.ledger.card(c.cardnumber) ?? c;
  console.log(
    `  ${c.cardnumber}  ${formatCents(card.cash_balance + card.bonus_balance).padStart(10)}  ${c.note}`,
  );
}

const stop = () => {
  void standIn.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
