import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GpioChipNotFoundError,
  GpioPinRangeError,
  listGpioChips,
  readGpioNumbering,
} from '../../hal/io/sysfs-gpio-base.js';

interface FakeChip {
  name: string;
  base: number;
  label: string;
  ngpio: number;
}

async function fakeSysfs(chips: FakeChip[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sysfs-gpio-'));
  await writeFile(join(root, 'export'), '');
  for (const c of chips) {
    const dir = join(root, c.name);
    await mkdir(dir);
    await writeFile(join(dir, 'base'), `${c.base}\n`);
    await writeFile(join(dir, 'label'), `${c.label}\n`);
    await writeFile(join(dir, 'ngpio'), `${c.ngpio}\n`);
  }
  return root;
}

describe('sysfs GPIO base (kernel 6.6+ numbering)', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
  });
  async function tree(chips: FakeChip[]): Promise<string> {
    const root = await fakeSysfs(chips);
    roots.push(root);
    return root;
  }

  it('base 0 (old kernel, Pi 3): BCM 17 is gpio 17', async () => {
    const root = await tree([{ name: 'gpiochip0', base: 0, label: 'pinctrl-bcm2835', ngpio: 54 }]);
    const n = await readGpioNumbering(root);
    assert.equal(n.toGlobal(17), 17);
    assert.equal(n.describe(17), 'BCM 17 (gpio 17)');
  });

  it('base 512 (Pi 4, kernel 6.6), ignoring the firmware expander chip', async () => {
    const root = await tree([
      { name: 'gpiochip512', base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
      { name: 'gpiochip570', base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
    ]);
    const n = await readGpioNumbering(root);
    assert.equal(n.chip.name, 'gpiochip512');
    assert.equal(n.toGlobal(17), 529);
    assert.equal(n.toGlobal(0), 512);
  });

  it('base 571 (Pi 5): the RP1 chip wins over the SoC chips listed before it', async () => {
    const root = await tree([
      { name: 'gpiochip512', base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
      { name: 'gpiochip544', base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
      { name: 'gpiochip571', base: 571, label: 'pinctrl-rp1', ngpio: 54 },
    ]);
    const n = await readGpioNumbering(root);
    assert.equal(n.chip.label, 'pinctrl-rp1');
    assert.equal(n.toGlobal(17), 588);
    assert.equal(n.toGlobal(26), 597);
  });

  it('refuses BCM numbers outside the chip', async () => {
    const root = await tree([{ name: 'gpiochip512', base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }]);
    const n = await readGpioNumbering(root);
    assert.throws(() => n.toGlobal(58), GpioPinRangeError);
    assert.throws(() => n.toGlobal(-1), GpioPinRangeError);
  });

  it('no header chip: a clear error that lists what was found', async () => {
    const root = await tree([{ name: 'gpiochip0', base: 0, label: 'some-usb-gpio', ngpio: 8 }]);
    await assert.rejects(readGpioNumbering(root), (err: unknown) => {
      assert.ok(err instanceof GpioChipNotFoundError);
      assert.match(err.message, /no GPIO header chip found/);
      assert.match(err.message, /gpiochip0 "some-usb-gpio" base 0/);
      return true;
    });
  });

  it('no sysfs GPIO at all (a PC): a clear error, not a crash', async () => {
    await assert.rejects(readGpioNumbering('/nonexistent/sys/class/gpio'), (err: unknown) => {
      assert.ok(err instanceof GpioChipNotFoundError);
      assert.match(err.message, /no sysfs GPIO at .* \(ENOENT\)/);
      return true;
    });
  });

  it('skips a chip directory with missing files', async () => {
    const root = await tree([{ name: 'gpiochip512', base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }]);
    await mkdir(join(root, 'gpiochip600'));
    const chips = await listGpioChips(root);
    assert.deepEqual(
      chips.map((c) => c.name),
      ['gpiochip512'],
    );
  });
});
