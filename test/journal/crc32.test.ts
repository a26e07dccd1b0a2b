import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { crc32 } from '../../src/journal/crc32.js';

describe('journal crc32', () => {
  it('gives the standard check value for "123456789"', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });

  it('agrees with zlib.crc32 where this Node has it, on random data and sub-ranges', function () {
    const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    if (!z) {
      console.log('zlib.crc32 missing in this Node: cross-check skipped');
      this.skip();
    }
    for (let len = 0; len < 300; len += 7) {
      const buf = Buffer.from(Array.from({ length: len }, (_, i) => (i * 131 + len * 17) & 0xff));
      assert.equal(crc32(buf), z(buf));
      if (len > 10) assert.equal(crc32(buf, 3, len - 2), z(buf.subarray(3, len - 2)));
    }
  });
});
