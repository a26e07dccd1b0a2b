import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  CommandSchema,
  TransactionEventMessageSchema,
  TransactionEventSchema,
  envelope,
} from '../../src/fleet/envelope.js';
import { fleetSubscriptions, kioskTopics, parseKioskTopic } from '../../src/fleet/topics.js';
import { scrub } from '../../src/fleet/scrub.js';

describe('fleet topics and envelope schemas', () => {
  it('builds the kiosk/v1/{id} tree and parses it back', () => {
    const t = kioskTopics('k-0042');
    assert.equal(t.state, 'kiosk/v1/k-0042/state');
    assert.equal(t.alert('paper_out'), 'kiosk/v1/k-0042/alert/paper_out');
    assert.equal(t.evt('transaction'), 'kiosk/v1/k-0042/evt/transaction');
    assert.equal(t.cmdAll, 'kiosk/v1/k-0042/cmd/+');
    assert.equal(t.configDesired, 'kiosk/v1/k-0042/config/desired');
    assert.deepEqual(parseKioskTopic(t.alert('paper_out')), {
      id: 'k-0042',
      kind: 'alert',
      name: 'paper_out',
    });
    assert.deepEqual(parseKioskTopic(t.configReported), { id: 'k-0042', kind: 'config/reported' });
    assert.deepEqual(parseKioskTopic(t.health), { id: 'k-0042', kind: 'health' });
    assert.equal(parseKioskTopic('kiosk/v2/k-0042/state'), undefined);
    assert.equal(parseKioskTopic('kiosk/v1/k-0042/state/extra'), undefined);
    assert.equal(parseKioskTopic('kiosk/v1/k-0042/cmd'), undefined);
    assert.equal(fleetSubscriptions.sharedEvents('dash'), '$share/dash/kiosk/v1/+/evt/#');
  });

  it('refuses ids and names that would break topic levels or ACLs', () => {
    for (const bad of ['', 'a/b', 'k+1', 'k#', '$SYS', 'x'.repeat(65)]) {
      assert.throws(() => kioskTopics(bad), /invalid kiosk id/, bad);
    }
    assert.throws(() => kioskTopics('k-1').alert('Paper/Out'), /invalid alert name/);
    assert.throws(() => kioskTopics('k-1').cmd('#'), /invalid cmd name/);
  });

  it('event schemas accept masked cards only and no extra fields', () => {
    const base = {
      eventId: randomUUID(),
      kind: 'sale',
      outcome: 'completed',
      amountCents: 796,
      currency: 'EUR',
    };
    assert.equal(TransactionEventSchema.safeParse({ ...base, card: '9276********2845' }).success, true);
    assert.equal(TransactionEventSchema.safeParse({ ...base, card: '9276000011112845' }).success, false);
    assert.equal(TransactionEventSchema.safeParse({ ...base, customerName: 'Erika' }).success, false);
    const msg = { ...envelope('k-1', 3, 17, 1_767_225_600_000), ...base };
    assert.equal(TransactionEventMessageSchema.parse(msg).seq, 17);
    assert.equal(TransactionEventMessageSchema.safeParse({ ...msg, name: 'Erika' }).success, false);
  });

  it('commands need a UUID, times in ms and args as an object', () => {
    const ok = { cmdId: randomUUID(), issuedAt: 1, expiresAt: 2, args: { on: true } };
    assert.equal(CommandSchema.safeParse(ok).success, true);
    assert.deepEqual(CommandSchema.parse({ ...ok, args: undefined }).args, {});
    assert.equal(CommandSchema.safeParse({ ...ok, cmdId: 'abc' }).success, false);
    assert.equal(CommandSchema.safeParse({ ...ok, expiresAt: '2026-01-01' }).success, false);
  });

  it('scrub masks card numbers (also grouped) and drops fields naming a person', () => {
    const out = scrub({
      note: 'card 9276 0000 1111 2845 and 9276000011112845',
      holder: 'Erika Mustermann',
      nested: [{ customer_name: 'Erika', status: 'ok' }],
    });
    const uuid = '6f1c2a57-1234-5678-9012-345678901234';
    assert.notEqual(scrub(uuid), uuid, 'a UUID can look like a grouped card number: ids stay out of scrub');
    assert.deepEqual(out, {
      note: 'card 9276********2845 and 9276********2845',
      nested: [{ status: 'ok' }],
    });
  });
});
