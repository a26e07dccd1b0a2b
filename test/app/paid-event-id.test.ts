/**
 * A paid transaction's `evt/transaction` has one eventId, whoever tells it (the flow after its
 * releases, or recovery after a cut before the receipt): the dashboard de-duplicates by eventId, so a
 * sale told twice counts once.
 */
import assert from 'node:assert/strict';
import { paidEventId } from '../../src/app/kiosk-app.js';
import { TransactionEventSchema } from '../../src/fleet/envelope.js';

describe('paidEventId', () => {
  it('is a UUID the contract takes, the same for the same kiosk and transaction, else different', () => {
    const id = paidEventId('k-0042', 'STX_ABC');
    const event = { eventId: id, kind: 'sale', outcome: 'completed', amountCents: 180, currency: 'EUR' };
    assert.ok(TransactionEventSchema.safeParse(event).success, id);
    assert.equal(paidEventId('k-0042', 'STX_ABC'), id, 'the flow and recovery give the same id');
    assert.notEqual(paidEventId('k-0042', 'STX_ABD'), id);
    assert.notEqual(paidEventId('k-0043', 'STX_ABC'), id);
  });
});
