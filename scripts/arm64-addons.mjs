/**
 * Run by scripts/check-arm64.sh under the arm64 Node (qemu-aarch64): loads each native addon the kiosk
 * uses, resolved as the release's bundle resolves it (from `<release>/dist`), and calls into it. A
 * load error (an x64 .node, a Node ABI or libc mismatch) fails here instead of on a Pi at the first
 * real device.
 *
 *   node scripts/arm64-addons.mjs <release dir> <fifo>
 */
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';

const [release, fifo] = process.argv.slice(2);
assert.ok(release && fifo, 'usage: arm64-addons.mjs <release dir> <fifo>');
assert.equal(process.arch, 'arm64');
const fromBundle = Module.createRequire(join(release, 'dist', 'kiosk.mjs'));
// one module cache for every require: the .node files loaded show up here whoever loaded them
const { cache } = fromBundle;

/** The .node files loaded so far (the `bindings` and `node-gyp-build` packages require them by path). */
function nativeFiles() {
  return Object.keys(cache).filter((f) => f.endsWith('.node'));
}

/** What each probe loaded, for the script's output and for the checks of where it came from. */
function loadedBy(probe) {
  const before = new Set(nativeFiles());
  return probe().then((said) => ({ said, files: nativeFiles().filter((f) => !before.has(f)) }));
}

const probes = {
  // onoff's Gpio sits on epoll: an edge is epoll_wait on the sysfs value file. Here a FIFO stands in
  // for it (Node has no pipe() or eventfd); one byte written must come back as EPOLLIN.
  epoll: () =>
    new Promise((resolve, reject) => {
      // the epoll that onoff itself requires (a copy beside it could be x64), and onoff on top
      const { Epoll } = Module.createRequire(fromBundle.resolve('onoff'))('epoll');
      assert.equal(typeof fromBundle('onoff').Gpio.accessible, 'boolean');
      const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
      const timer = setTimeout(() => reject(new Error('no EPOLLIN within 10 s')), 10_000);
      const poller = new Epoll((err, readyFd, events) => {
        clearTimeout(timer);
        poller.remove(fd).close();
        closeSync(fd);
        if (err) return reject(err);
        assert.equal(readyFd, fd);
        assert.ok(events & Epoll.EPOLLIN, `events ${events}`);
        resolve('onoff loaded, Epoll on a FIFO: EPOLLIN after one byte');
      });
      poller.add(fd, Epoll.EPOLLIN);
      writeSync(fd, 'x');
    }),
  // the display's bus (hal/io/pcf8574-bus.ts): open is lazy, the first write opens /dev/i2c-N
  'i2c-bus': async () => {
    const bus = await fromBundle('i2c-bus').openPromisified(250);
    const err = await bus.i2cWrite(0x27, 1, Buffer.from([0])).then(
      () => assert.fail('/dev/i2c-250 written'),
      (e) => e,
    );
    assert.equal(err.code, 'ENOENT', String(err));
    // and one ioctl through the addon itself, on /dev/null: a kernel says ENOTTY; qemu-user does not
    // translate I2C ioctls at all (ENOSYS), so no transfer can be tried under emulation
    const native = cache[nativeFiles().find((f) => f.endsWith('/i2c.node'))].exports;
    const fd = openSync('/dev/null', 'r+');
    let code;
    try {
      native.i2cFuncsSync(fd);
    } catch (e) {
      code = e.code;
    } finally {
      closeSync(fd);
    }
    assert.match(String(code), /^(ENOTTY|ENOSYS)$/);
    return `first write on bus 250: ENOENT; I2C_FUNCS ioctl on /dev/null: ${code}`;
  },
  // the serial drivers' binding (serialport's autoDetect); open is native (linux list() is udevadm)
  '@serialport/bindings-cpp': async () => {
    const binding = Module.createRequire(fromBundle.resolve('serialport'))('@serialport/bindings-cpp');
    const err = await binding
      .autoDetect()
      .open({ path: '/dev/ttyNOPE0', baudRate: 9600 })
      .then(
        () => assert.fail('/dev/ttyNOPE0 opened'),
        (e) => e,
      );
    assert.match(String(err), /No such file or directory/);
    return 'open(/dev/ttyNOPE0): No such file or directory';
  },
};

async function main() {
  let failed = 0;
  for (const [name, probe] of Object.entries(probes)) {
    try {
      const { said, files } = await loadedBy(probe);
      assert.ok(files.length > 0, 'no .node file loaded');
      console.log(`${name}: ${said}; loaded ${files.join(', ')}`);
    } catch (e) {
      failed++;
      console.error(`${name}: FAILED: ${e && e.stack ? e.stack : e}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}
await main();
