/**
 * How the harness builds a kiosk's command line (src/harness/kioskCommand): scripts/check-arm64.sh
 * runs the e2e tests with every kiosk the arm64 bundle under qemu through KIOSK_E2E_ENTRY and
 * KIOSK_E2E_NODE, so a test that quietly ran the x64 Node instead would pass for the wrong reason.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kioskCommand, REPO_ROOT } from '../../src/harness/kiosk-process.js';

const RUN = ['run', '--config', '/tmp/k/config.json', '--no-tui'];

describe('harness: kioskCommand', () => {
  it('KIOSK_E2E_NODE runs the KIOSK_E2E_ENTRY build with that program instead of this Node', () => {
    const env = { KIOSK_E2E_ENTRY: '/r/dist/kiosk.mjs', KIOSK_E2E_NODE: '/w/node-arm64' };
    assert.deepEqual(kioskCommand({}, '/tmp/k/config.json', env), [
      '/w/node-arm64',
      '/r/dist/kiosk.mjs',
      ...RUN,
    ]);
  });

  it('without either: tsx on the sources with the Node running the tests', () => {
    assert.deepEqual(kioskCommand({}, '/tmp/k/config.json', {}), [
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'src/app/main.ts'),
      ...RUN,
    ]);
  });

  it("a test's own node and entry win over the environment; a command runs as it is", () => {
    const env = { KIOSK_E2E_ENTRY: '/r/dist/kiosk.mjs', KIOSK_E2E_NODE: '/w/node-arm64' };
    const bundle = { kind: 'bundle', file: '/b/kiosk.mjs' } as const;
    assert.deepEqual(kioskCommand({ entry: bundle, node: '/n22/node' }, '/tmp/k/config.json', env), [
      '/n22/node',
      '/b/kiosk.mjs',
      ...RUN,
    ]);
    assert.deepEqual(kioskCommand({ entry: bundle }, '/tmp/k/config.json', env)[0], '/w/node-arm64');
    assert.deepEqual(
      kioskCommand({ entry: { kind: 'command', file: '/rel/bin/kiosk' } }, '/tmp/k/config.json', env),
      ['/rel/bin/kiosk', ...RUN],
    );
  });
});
