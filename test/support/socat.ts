/** The pty pair lives in src/harness (the chaos harness runs a validator on one too); tests import it here. */
export { findSocat, startPtyPair, type PtyPair } from '../../src/harness/socat.js';
