import assert from 'node:assert/strict';
import { connect } from 'node:net';
import sinon from 'sinon';
import { readFileSync } from 'node:fs';
import { controlPortDecision, startControlPort, type SimControls } from '../../src/app/control-port.js';
import { checkDesiredConfig } from '../../src/app/fleet-config-policy.js';
import { loadConfig } from '../../src/config/config.js';

type Stubbed = { [K in keyof SimControls]: sinon.SinonStub };

function fakeControls(): Stubbed {
  return {
    press: sinon.stub(),
    longPress: sinon.stub(),
    scan: sinon.stub(),
    coin: sinon.stub().returns({ accepted: true }),
    paper: sinon.stub(),
    printer: sinon.stub(),
    unplug: sinon.stub(),
    replug: sinon.stub(),
    display: sinon.stub().returns(['Hallo', '']),
    state: sinon.stub().returns({ state: 'idle' }),
    receipts: sinon.stub().returns([['a', 'b']]),
    cards: sinon.stub().returns([]),
    slot: sinon.stub(),
    hopper: sinon.stub().returns({ coins: 0 }),
  };
}

async function exchange(
  port: number,
  payload: string,
  answers: number,
): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buffer += d;
      const lines = buffer.split('\n').filter(Boolean);
      if (lines.length >= answers) {
        socket.end();
        resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('control port: NDJSON on 127.0.0.1, one answer per line', () => {
  it('drives the controls and answers in order; bad requests get an error and the port keeps serving', async () => {
    const controls = fakeControls();
    const cp = await startControlPort(0, controls as unknown as SimControls);
    try {
      const answers = await exchange(
        cp.port,
        [
          '{"cmd":"press","button":"ok"}',
          '{"cmd":"scan","data":"9276004429942845"}',
          '{"cmd":"coin","cents":200}',
          'this is not json',
          '{"cmd":"coin","cents":-5}',
          '{"cmd":"launch-missiles"}',
          '{"cmd":"paper","state":"out"}',
          '{"cmd":"unplug","device":"reader"}',
          '{"cmd":"display"}',
          '{"cmd":"state"}',
          '{"cmd":"receipts"}',
          '{"cmd":"printer","action":"fail","jobs":2}',
          '',
        ].join('\n'),
        12,
      );
      assert.deepEqual(answers[0], { ok: true });
      assert.equal(controls.press.firstCall.args[0], 'ok');
      assert.equal(controls.scan.firstCall.args[0], '9276004429942845');
      assert.deepEqual(answers[2], { ok: true, accepted: true });
      assert.match(String(answers[3]!.error), /not JSON/);
      assert.match(String(answers[4]!.error), /cents/);
      assert.match(String(answers[5]!.error), /unknown cmd "launch-missiles"/);
      assert.equal(controls.paper.firstCall.args[0], 'out');
      assert.equal(controls.unplug.firstCall.args[0], 'reader');
      assert.deepEqual(answers[8], { lines: ['Hallo', ''] });
      assert.deepEqual(answers[9], { state: 'idle' });
      assert.deepEqual(answers[10], { receipts: [['a', 'b']] });
      assert.deepEqual(answers[11], { ok: true });
      assert.deepEqual(controls.printer.firstCall.args, ['fail', 2]);
      assert.equal(controls.coin.callCount, 1, 'the negative coin never reached the acceptor');
      // Still serving after the garbage.
      assert.deepEqual(await exchange(cp.port, '{"cmd":"ping"}\n', 1), [{ pong: true }]);
      // A coin already in the validator at the inhibit ("late") reaches the acceptor as such.
      assert.deepEqual(await exchange(cp.port, '{"cmd":"coin","cents":50,"late":true}\n', 1), [
        { ok: true, accepted: true },
      ]);
      assert.deepEqual(controls.coin.secondCall.args, [50, true]);
    } finally {
      await cp.close();
    }
  });

  it('a blank line gets an answer too (a waiting client does not hang)', async () => {
    const cp = await startControlPort(0, fakeControls() as unknown as SimControls);
    try {
      const [answer] = await exchange(cp.port, '\n', 1);
      assert.match(String(answer!.error), /empty line/);
    } finally {
      await cp.close();
    }
  });

  it('an over-long line is refused without buffering it forever', async () => {
    const cp = await startControlPort(0, fakeControls() as unknown as SimControls);
    try {
      const [answer] = await exchange(cp.port, 'x'.repeat(20_000), 1);
      assert.match(String(answer!.error), /longer than/);
    } finally {
      await cp.close();
    }
  });
});

describe('control port: never beside a real coin acceptor unless the local config says so', () => {
  const cfg = (coin: string, port: number | undefined, allow = false) => ({
    sim: { ...(port === undefined ? {} : { controlPort: port }), controlPortWithRealAcceptor: allow },
    hardware: { coin: { driver: coin } },
  });

  it('opens beside the simulated acceptor', () => {
    assert.deepEqual(controlPortDecision(cfg('simulated', 7070)), { open: true, port: 7070 });
  });

  it('stays closed beside a real acceptor, with a reason naming the local setting', () => {
    const d = controlPortDecision(cfg('pulse', 7070));
    assert.equal(d.open, false);
    assert.match(d.open ? '' : (d.reason ?? ''), /coin acceptor is real.*sim\.controlPortWithRealAcceptor/);
  });

  it('opens beside a real acceptor only with sim.controlPortWithRealAcceptor in the local file', () => {
    assert.deepEqual(controlPortDecision(cfg('pulse', 7070, true)), { open: true, port: 7070 });
    const r = checkDesiredConfig(
      { version: 99, sim: { controlPortWithRealAcceptor: true } },
      loadConfig('config/simulator.json'),
    );
    assert.equal(r.ok, false, 'the fleet cannot set it');
  });

  it('no port configured: closed, nothing to say', () => {
    assert.deepEqual(controlPortDecision(cfg('pulse', undefined)), { open: false, reason: null });
  });

  it('the shipped Raspberry Pi config has a real acceptor and no control port', () => {
    const pi = JSON.parse(readFileSync('config/example.pi.json', 'utf8')) as {
      sim?: { controlPort?: number };
      hardware: { coin: { driver: string } };
    };
    assert.notEqual(pi.hardware.coin.driver, 'simulated');
    assert.equal(pi.sim?.controlPort, undefined);
  });
});
