/**
 * `npx tsx src/chaos/cli.ts --runs <n> --seed <s> [--sessions 8] [--kill-rate 0.6] [--kind-rate 0.25] [--goods-rate 0.15] [--mode topup|checkout|vending] [--acceptor simulated|cctalk] [--keep] [--json <file>]`
 *
 * Runs the chaos harness (run.ts) and prints, per run and in total: kills, faults injected, and
 * the reconciliation of the three books. Exit code 0 when no cent was lost, nothing was charged
 * twice and nothing over-booked; 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCents } from '../api/money.js';
import { summarize, type ChaosSummary } from './summary.js';
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
    help: { type: 'boolean', default: false },
  },
});
const USAGE =
  'usage: chaos --runs <n> --seed <s> [--first <run>] [--sessions <n>] [--kill-rate <0..1>] [--kind-rate <0..1>] ' +
  '[--goods-rate <0..1>] [--mode topup|checkout|vending] [--acceptor simulated|cctalk] [--keep] [--keep-bad] [--quiet] [--trace] [--json <file>]';
if (values.help) {
  console.log(USAGE);
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
if (![runs, seed, sessions, killRate].every(Number.isFinite) || runs < 1 || sessions < 1) {
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
          .join(
            ', ',
          )}}; in ${formatCents(b.acceptorCents)} = paid ${formatCents(b.paidCash)} + credited ${formatCents(b.creditedCash)} + unclaimed ${formatCents(b.unclaimed)}` +
        `${b.inFlightAtKill ? ` + ${formatCents(b.inFlightAtKill)} in flight at a power cut` : ''}; ` +
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
