import assert from 'node:assert/strict';
import {
  buildFrame,
  checksumOf,
  CctalkFrameError,
  CctalkFrameParser,
  HEADER,
  parseFrame,
  readUint24,
  uint24,
} from '../../hal/io/cctalk-frame.js';

describe('ccTalk frames', () => {
  it('builds the simple poll to a hopper byte for byte (all bytes sum to 0 mod 256)', () => {
    // 03 00 01 FE: sum 0x102 -> checksum 0xFE (the spec's example for address 3... checked by hand)
    const frame = buildFrame({ destination: 3, source: 1, header: HEADER.SIMPLE_POLL });
    assert.deepEqual([...frame], [0x03, 0x00, 0x01, 0xfe, 0xfe]);
    assert.equal([...frame].reduce((a, b) => a + b, 0) % 256, 0);
  });

  it('builds a dispense with serial number and count', () => {
    const frame = buildFrame({ destination: 3, source: 1, header: 167, data: [0x56, 0x34, 0x12, 7] });
    assert.deepEqual([...frame.subarray(0, 8)], [3, 4, 1, 167, 0x56, 0x34, 0x12, 7]);
    assert.equal(frame.length, 9);
    assert.equal([...frame].reduce((a, b) => a + b, 0) % 256, 0);
    assert.equal(checksumOf(frame.subarray(0, 8)), frame[8]);
  });

  it('rejects bytes out of range and data that is too long', () => {
    assert.throws(() => buildFrame({ destination: 256, source: 1, header: 1 }), CctalkFrameError);
    assert.throws(() => buildFrame({ destination: 3, source: 1, header: 1, data: [300] }), CctalkFrameError);
    assert.throws(
      () => buildFrame({ destination: 3, source: 1, header: 1, data: new Array<number>(251).fill(0) }),
      CctalkFrameError,
    );
  });

  it('parses a reply and refuses a bad checksum or length', () => {
    const reply = buildFrame({ destination: 1, source: 3, header: 0, data: [1, 0, 5, 0] });
    assert.deepEqual(parseFrame(reply), {
      destination: 1,
      source: 3,
      header: 0,
      data: Buffer.from([1, 0, 5, 0]),
    });
    const bad = Buffer.from(reply);
    bad[5] = (bad[5] ?? 0) ^ 1;
    assert.throws(() => parseFrame(bad), /checksum/);
    assert.throws(() => parseFrame(reply.subarray(0, 7)), /length/);
  });

  it('splits a stream cut anywhere, skips an echo-free garbage prefix and resynchronises', () => {
    const a = buildFrame({ destination: 1, source: 3, header: 0, data: [9, 8] });
    const b = buildFrame({ destination: 1, source: 3, header: 5 });
    const stream = Buffer.concat([Buffer.from([0x07, 0x02, 0x99]), a, b]);
    const parser = new CctalkFrameParser();
    const frames = [];
    for (const byte of stream) frames.push(...parser.push(Buffer.from([byte])));
    assert.deepEqual(
      frames.map((f) => f.header),
      [0, 5],
    );
    assert.deepEqual([...(frames[0]?.data ?? [])], [9, 8]);
    assert.ok(parser.dropped >= 3, 'the garbage bytes were dropped');
    assert.equal(parser.pending, 0);
  });

  it('reset drops a partial frame', () => {
    const parser = new CctalkFrameParser();
    parser.push(Buffer.from([1, 4, 3]));
    parser.reset();
    const frames = parser.push(buildFrame({ destination: 1, source: 3, header: 0 }));
    assert.equal(frames.length, 1);
  });

  it('encodes 3-byte little-endian numbers', () => {
    assert.deepEqual(uint24(0x123456), [0x56, 0x34, 0x12]);
    assert.equal(readUint24(Buffer.from([0x56, 0x34, 0x12])), 0x123456);
  });
});
