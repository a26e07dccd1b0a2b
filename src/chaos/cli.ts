/**
 * `npx tsx src/chaos/cli.ts --runs <n> --seed <s> [--sessions 8] [--kill-rate 0.6] [--kind-rate 0.25] [--goods-rate 0.15] [--mode topup|checkout|vending] [--acceptor simulated|cctalk] [--validator-rate 0.2] [--keep] [--json <file>]` (`--help` says what each does)
 *
 * Runs the chaos harness (run.ts) and prints, per run and in total: kills, faults injected, and
 * the reconciliation of the three books. Exit code 0 when no cent was lost, nothing was charged
 * twice and nothing over-booked; 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cashEquation, cashOf, summarize, type ChaosSummary } from './summary.js';
import { chaosRun, type RunResult } from './run.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    /** Start at this run number (to repeat one run of a seed). */
    first: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    sessions: { type: 'string', default: '8' },
    'kill-rate': { type: 'string', default: '0.6' },
    keep: { type: 'boolean', default: false },
    'keep-bad': { type: 'boolean', default: true },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    /** Each session's faults and story on stderr (debugging a finding). */
    trace: { type: 'boolean', default: false },
    /** Per-session probability of each new fault kind (0: power cuts and API faults only). */
    'kind-rate': { type: 'string', default: '0.25' },
    'goods-rate': { type: 'string', default: '0.15' },
    /** Every run in this mode (default: the PRNG's pick per run). */
    mode: { type: 'string' },
    /** `cctalk`: the kiosk's ccTalk driver against a validator the harness plays over a socat pty pair. */
    acceptor: { type: 'string', default: 'simulated' },
    /**
     * With `--acceptor cctalk`: per-session probability of each of the validator's own faults while
     * the kiosk runs (power loss, buffer overflow; src/chaos/validator-faults.ts). 0: none.
     */
    'validator-rate': { type: 'string', default: '0.2' },
    /** Checkout and vending: per-session probability that the customer pays by coins to the end. */
    'coin-pay': { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});
const USAGE =
  'usage: chaos --runs <n> --seed <s> [--first <run>] [--sessions <n>] [--kill-rate <0..1>] [--kind-rate <0..1>] ' +
  '[--goods-rate <0..1>] [--mode topup|checkout|vending] [--acceptor simulated|cctalk] [--validator-rate <0..1>] [--coin-pay <0..1>] ' +
  '[--keep] [--keep-bad] [--quiet] [--trace] [--json <file>]';
const HELP = `${USAGE}

  --kill-rate       per session: the kiosk's power cut (SIGKILL) at a random moment (default 0.6)
  --kind-rate       per session, each fault kind: card terminal, clock jump, printer mid-print, disk full,
                    broker outage, byte flip (default 0.25; 0: power cuts and API faults only)
  --goods-rate      per session on a vending counter, each goods kind: slot jam, stuck sensor, empty or
                    jamming hopper, cut in a release or a payout (default 0.15)
  --acceptor        simulated (coins through the control port) or cctalk (the ccTalk driver against a
                    validator the harness plays over a socat pty pair)
  --validator-rate  with --acceptor cctalk, per session, each of the validator's own faults while the
                    kiosk runs (default 0.2; 0 repeats the choices of seeds run before these kinds):
                    validator_power_loss  a brown-out: no answers for 0.2-2.5 s, coins meanwhile go
                                          back to the cup, then counter 0 and every channel inhibited;
                                          sometimes coins straight after, before or after the kiosk's
                                          first poll
                    validator_overflow    the data line broken while a customer pays, 6-8 coins in:
                                          more than the 5 results a poll reads; the journal must record
                                          the loss for the operator (acceptor_lost)
  --coin-pay        checkout and vending, per session: the customer pays by coins to the end (no card
                    terminal, no walking away; a coin returned, the next smaller one) (default 0: the
                    customer of earlier seeds, who stops at the first coin returned)
  --first <run>     start at this run number (repeat one run of a seed)
  --keep, --keep-bad  keep every run's directory, or only those with findings (default)
  --trace           each session's faults and story on stderr
  --json <file>     the summary and every run's result`;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const MODES = ['topup', 'checkout', 'vending'] as const;
const mode = MODES.find((m) => m === values.mode);
const acceptor = (['simulated', 'cctalk'] as const).find((a) => a === values.acceptor);
if ((values.mode !== undefined && !mode) || !acceptor) {
  console.error(USAGE);
  process.exit(64);
}
const runs = Number(values.runs);
const seed = Number(values.seed);
const sessions = Number(values.sessions);
const killRate = Number(values['kill-rate']);
const validatorRate = Number(values['validator-rate']);
const coinPayRate = Number(values['coin-pay']);
if (
  ![runs, seed, sessions, killRate, validatorRate, coinPayRate].every(Number.isFinite) ||
  runs < 1 ||
  sessions < 1 ||
  validatorRate < 0 ||
  validatorRate > 1 ||
  coinPayRate < 0 ||
  coinPayRate > 1
) {
  console.error(USAGE);
  process.exit(64);
}

const results: RunResult[] = [];
const started = Date.now();
const first = Number(values.first);
for (let run = first; run < first + runs; run++) {
  const r = await chaosRun(run, seed, {
    sessions,
    killRate,
    keep: values.keep,
    keepBad: values['keep-bad'],
    kindRate: Number(values['kind-rate']),
    goodsRate: Number(values['goods-rate']),
    ...(mode ? { mode } : {}),
    acceptor,
    validatorRate,
    coinPayRate,
    log: (line) => console.error(line),
    ...(values.trace ? { trace: (line: string) => console.error(line) } : {}),
  });
  results.push(r);
  const b = r.books;
  if (!values.quiet || b.findings.length || r.error)
    console.log(
      `run ${run} (${r.mode}, ${(r.ms / 1000).toFixed(1)} s): ${r.sessions} sessions, ${r.kioskKills} kiosk kills, ` +
        `${r.standInKills} API kills, ${r.standInPauses} API pauses, ${Object.values(r.faults).reduce((a, c) => a + c, 0)} faults, ` +
        `${r.deviceFaults} device faults, kinds {${Object.entries(r.kinds)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}}; in ${cashEquation(cashOf(r))}; ` +
        `lost ${b.lostCents} ct, double charges ${b.doubleCharges}, over-booked ${b.overBookedCents} ct, open ${b.openSessions}` +
        `${r.idleAtEnd ? '' : ', NOT IDLE AT END'}${r.dir ? ` [${r.dir}]` : ''}`,
    );
  for (const f of b.findings) console.log(`  ! ${f}`);
  if (r.error) console.log(`  ! error: ${r.error.split('\n')[0]}`);
}
const summary: ChaosSummary = summarize(results, Date.now() - started);
console.log(`\n${summary.text}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ summary, results }, null, 2));
process.exit(summary.ok ? 0 : 1);
