import assert from 'node:assert/strict';
import { cardRuleFromLegacyPattern } from '../../src/config/card-rule.js';
import { classifyScan, matchesCardRule } from '../../machines/scan.js';
import { checkConfig, loadConfig } from '../../src/config/config.js';

const fileDoc = () =>
  JSON.parse(JSON.stringify(loadConfig('config/simulator.json'))) as Record<string, unknown>;

describe('cardPattern: a digits-and-length rule, never a free RegExp', () => {
  it('reads the old RegExp forms as the same rule, once at config load', () => {
    assert.deepEqual(cardRuleFromLegacyPattern('^9276\\d{12}$'), {
      prefix: '9276',
      minLength: 16,
      maxLength: 16,
    });
    assert.deepEqual(cardRuleFromLegacyPattern('^9276[0-9]{10,12}$'), {
      prefix: '9276',
      minLength: 14,
      maxLength: 16,
    });
    assert.deepEqual(cardRuleFromLegacyPattern('^\\d{8}$'), { prefix: '', minLength: 8, maxLength: 8 });
    const c = checkConfig({ ...fileDoc(), cardPattern: '^9276\\d{12}$' });
    assert.ok(c.ok);
    assert.deepEqual(c.config.cardPattern, { prefix: '9276', minLength: 16, maxLength: 16 });
  });

  it('refuses any other RegExp, catastrophic ones included, with the rule form in the message', () => {
    for (const bad of [
      '(\\d+)+$',
      '^(a|a)*$',
      '^9276.*$',
      '^9276\\d{12}',
      '9276\\d{12}$',
      '([',
      '^\\d{0}$',
    ]) {
      assert.equal(cardRuleFromLegacyPattern(bad), null, bad);
      const c = checkConfig({ ...fileDoc(), cardPattern: bad });
      assert.equal(c.ok, false, bad);
      assert.match(c.ok ? '' : c.errors.join(), /cardPattern: give a digits-and-length rule/);
    }
  });

  it('checks the rule’s own bounds', () => {
    for (const bad of [
      { prefix: '92a6', minLength: 16, maxLength: 16 },
      { prefix: '9276', minLength: 17, maxLength: 16 },
      { prefix: '9276', minLength: 0, maxLength: 16 },
      { prefix: '9276', minLength: 16, maxLength: 33 },
      { prefix: '12345', minLength: 1, maxLength: 4 },
      { prefix: '9276', minLength: 16, maxLength: 16, regex: '.*' },
    ])
      assert.equal(checkConfig({ ...fileDoc(), cardPattern: bad }).ok, false, JSON.stringify(bad));
  });

  it('a scan matches by prefix, digits and length only', () => {
    const rule = { prefix: '9276', minLength: 14, maxLength: 16 };
    assert.equal(matchesCardRule('9276004429942845', rule), true);
    assert.equal(matchesCardRule('92760044299428', rule), true);
    assert.equal(matchesCardRule('9276004429942', rule), false, 'too short');
    assert.equal(matchesCardRule('92760044299428451', rule), false, 'too long');
    assert.equal(matchesCardRule('9275004429942845', rule), false, 'other prefix');
    assert.equal(matchesCardRule('927600442994284x', rule), false, 'not a digit');
    // the input that hangs a backtracking `(\d+)+$`-style pattern is just "not a card"
    assert.deepEqual(classifyScan(`${'9'.repeat(200)}!`, rule), { kind: 'unreadable' });
    assert.deepEqual(classifyScan(';9276004429942845?'), { kind: 'card', cardNumber: '9276004429942845' });
  });
});
