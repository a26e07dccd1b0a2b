import assert from 'node:assert/strict';
import {
  ACK,
  buildFrame,
  IN_LIST_PASSIVE_TARGET,
  NACK,
  SAM_CONFIGURATION,
  TFI_CHIP,
  WAKE_UP,
} from '../../hal/card-reader/pn532-frame.js';
import { Pn532FrameParser } from '../../hal/card-reader/pn532-frame-parser.js';
import type { Pn532Packet } from '../../hal/card-reader/pn532-frame-parser.js';
import { formatUid, parseInListPassiveTarget } from '../../hal/card-reader/pn532-target.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Reference answer from the datasheet's example: a MIFARE Classic with UID 4 bytes. */
const TARGET_RESPONSE = hex('00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 DE AD BE EF 96 00');

function describePackets(packets: Pn532Packet[]): string[] {
  return packets.map((p) => {
    if (p.kind === 'frame') return `frame ${p.tfi.toString(16)} ${p.data.toString('hex')}`;
    if (p.kind === 'invalid') return `invalid ${p.reason} ${p.bytes}`;
    return p.kind;
  });
}

describe('PN532 frame builder', () => {
  it('SAMConfiguration is 00 00 FF 05 FB D4 14 01 14 01 02 00', () => {
    assert.deepEqual(buildFrame(SAM_CONFIGURATION), hex('00 00 FF 05 FB D4 14 01 14 01 02 00'));
  });

  it('InListPassiveTarget is 00 00 FF 04 FC D4 4A 01 00 E1 00', () => {
    assert.deepEqual(buildFrame(IN_LIST_PASSIVE_TARGET), hex('00 00 FF 04 FC D4 4A 01 00 E1 00'));
  });

  it('GetFirmwareVersion is 00 00 FF 02 FE D4 02 2A 00', () => {
    assert.deepEqual(buildFrame([0x02]), hex('00 00 FF 02 FE D4 02 2A 00'));
  });

  it('the test fixture response has valid checksums', () => {
    assert.deepEqual(buildFrame(hex('4B 01 01 00 04 08 04 DE AD BE EF'), TFI_CHIP), TARGET_RESPONSE);
  });

  it('wake-up starts with 55 55 and continues with zeros', () => {
    assert.deepEqual([...WAKE_UP.subarray(0, 3)], [0x55, 0x55, 0x00]);
    assert.ok(WAKE_UP.length >= 16);
  });

  it('refuses data too long for a normal frame', () => {
    assert.throws(() => buildFrame(Buffer.alloc(254)), RangeError);
  });
});

describe('PN532 frame parser', () => {
  it('ACK, NACK and a response in one chunk', () => {
    const p = new Pn532FrameParser();
    assert.deepEqual(describePackets(p.push(Buffer.concat([ACK, NACK, TARGET_RESPONSE]))), [
      'ack',
      'nack',
      'frame d5 4b010100040804deadbeef',
    ]);
  });

  it('a frame split at every possible byte boundary', () => {
    const stream = Buffer.concat([ACK, TARGET_RESPONSE]);
    for (let cut = 1; cut < stream.length; cut++) {
      const p = new Pn532FrameParser();
      const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))];
      assert.deepEqual(describePackets(got), ['ack', 'frame d5 4b010100040804deadbeef'], `cut at ${cut}`);
    }
  });

  it('one byte at a time, with no spurious garbage from a late postamble', () => {
    const p = new Pn532FrameParser();
    const got: Pn532Packet[] = [];
    for (const b of Buffer.concat([ACK, TARGET_RESPONSE, ACK])) got.push(...p.push(Buffer.from([b])));
    assert.deepEqual(describePackets(got), ['ack', 'frame d5 4b010100040804deadbeef', 'ack']);
  });

  it('garbage before a frame is reported and skipped (resynchronisation)', () => {
    const p = new Pn532FrameParser();
    const got = p.push(Buffer.concat([hex('13 37 FF 00 AA'), TARGET_RESPONSE]));
    assert.deepEqual(describePackets(got), ['invalid garbage 5', 'frame d5 4b010100040804deadbeef']);
  });

  it('garbage that contains a false start code (00 FF with a bad LCS) does not hide the real frame', () => {
    const p = new Pn532FrameParser();
    const got = p.push(Buffer.concat([hex('00 FF 07 07 12'), ACK]));
    const d = describePackets(got);
    assert.equal(d[0], 'invalid bad_lcs 1');
    assert.equal(d.at(-1), 'ack');
  });

  it('rejects a bad data checksum and finds the next good frame', () => {
    const bad = Buffer.from(TARGET_RESPONSE);
    bad[bad.length - 2] = 0x03; // DCS off by one
    const p = new Pn532FrameParser();
    const got = describePackets(p.push(Buffer.concat([bad, TARGET_RESPONSE])));
    assert.equal(got[0], 'invalid bad_dcs 2');
    assert.equal(got.at(-1), 'frame d5 4b010100040804deadbeef');
    assert.ok(!got.slice(0, -1).some((g) => g.startsWith('frame')), 'no frame from the corrupted bytes');
  });

  it('rejects a bad length checksum', () => {
    const p = new Pn532FrameParser();
    const got = describePackets(p.push(hex('00 00 FF 05 FA D4 14 01 14 01 02 00')));
    assert.equal(got[0], 'invalid bad_lcs 2');
    assert.ok(!got.some((g) => g.startsWith('frame')));
  });

  it('rejects an unknown TFI even with good checksums', () => {
    const p = new Pn532FrameParser();
    assert.deepEqual(describePackets(p.push(buildFrame([0x01], 0xd6))).slice(0, 1), ['invalid bad_tfi 2']);
  });

  it('recognises the application error frame', () => {
    const p = new Pn532FrameParser();
    assert.deepEqual(describePackets(p.push(hex('00 00 FF 01 FF 7F 81 00'))), ['error']);
  });

  it('the host side sees wake-up zeros as garbage, then the command', () => {
    const p = new Pn532FrameParser();
    const got = describePackets(p.push(Buffer.concat([WAKE_UP, buildFrame(SAM_CONFIGURATION)])));
    assert.deepEqual(got, [`invalid garbage ${WAKE_UP.length}`, 'frame d4 14011401']);
  });

  it('endless noise without a start code does not grow the buffer', () => {
    const p = new Pn532FrameParser();
    let dropped = 0;
    for (let i = 0; i < 100; i++) {
      for (const x of p.push(Buffer.alloc(100, 0x55))) if (x.kind === 'invalid') dropped += x.bytes;
    }
    assert.equal(dropped, 10_000);
    assert.deepEqual(describePackets(p.push(ACK)), ['ack']);
  });
});

describe('InListPassiveTarget answer and UID formats', () => {
  it('parses the target and formats the UID', () => {
    const data = hex('4B 01 01 00 04 08 04 DE AD BE EF');
    const t = parseInListPassiveTarget(data);
    assert.ok(t);
    assert.equal(t.sensRes, 0x0004);
    assert.equal(t.selRes, 0x08);
    assert.equal(formatUid(t.uid), 'DEADBEEF');
    assert.equal(formatUid(t.uid, 'decimal'), '3735928559');
    assert.equal(formatUid(t.uid, 'decimal-reversed'), '4022250974');
    assert.equal(formatUid(hex('00 00 00 01'), 'decimal'), '0000000001');
    assert.equal(formatUid(hex('04 A2 24 B2 C3 5E 80')), '04A224B2C35E80');
  });

  it('no card, and a truncated answer', () => {
    assert.equal(parseInListPassiveTarget(hex('4B 00')), undefined);
    assert.throws(() => parseInListPassiveTarget(hex('4B 01 01 00 04 08 07 DE AD')), /truncated/);
    assert.throws(() => parseInListPassiveTarget(hex('15')), /not an InListPassiveTarget/);
  });
});
