import type { CheckResult } from './checks';
import { decideVerdict, EXIT_CODES } from './verdict';

const held = (check: string): CheckResult => ({ check, ok: true, detail: '' });
const failed = (check: string): CheckResult => ({ check, ok: false, detail: '' });
const empty = (check: string): CheckResult => ({ check, ok: false, inconclusive: true, detail: '' });

describe('the decision rule', () => {
  it('a correct experiment PASSes only when every check held, and FAILs on any failed check', () => {
    expect(decideVerdict({ fired: true, expected: 'pass', checks: [held('a'), held('b')] })).toMatchObject({
      verdict: 'PASS',
      asDesigned: false,
    });
    expect(decideVerdict({ fired: true, expected: 'pass', checks: [held('a'), failed('b')] })).toMatchObject({
      verdict: 'FAIL',
      asDesigned: false,
      reason: 'failed: b',
    });
  });

  it('is INCONCLUSIVE, never green, when the fault was not proven, whatever the checks say', () => {
    expect(decideVerdict({ fired: false, expected: 'pass', checks: [held('a')] })).toMatchObject({
      verdict: 'INCONCLUSIVE',
    });
    expect(
      decideVerdict({
        fired: false,
        notFiredReason: 'not healed',
        expected: 'fail',
        mustFail: ['a'],
        checks: [failed('a')],
      }),
    ).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'not healed' });
  });

  it('is INCONCLUSIVE when any check had nothing to judge, before looking at failures', () => {
    expect(decideVerdict({ fired: true, expected: 'pass', checks: [failed('a'), empty('b')] })).toMatchObject({
      verdict: 'INCONCLUSIVE',
      reason: 'nothing to judge for: b',
    });
    expect(
      decideVerdict({ fired: true, expected: 'fail', mustFail: ['a'], checks: [failed('a'), empty('b')] }),
    ).toMatchObject({ verdict: 'INCONCLUSIVE' });
  });

  it('a naive experiment FAILs as designed only when exactly its named checks fail', () => {
    expect(
      decideVerdict({
        fired: true,
        expected: 'fail',
        mustFail: ['a', 'b'],
        checks: [failed('a'), failed('b'), held('c')],
      }),
    ).toMatchObject({ verdict: 'FAIL', asDesigned: true });
  });

  it('a naive experiment that passes, misses a named failure, or fails elsewhere is a DEVIATION', () => {
    expect(
      decideVerdict({ fired: true, expected: 'fail', mustFail: ['a'], checks: [held('a'), held('c')] }),
    ).toMatchObject({ verdict: 'DEVIATION', reason: expect.stringContaining('a held although the bug must fail it') });
    expect(
      decideVerdict({ fired: true, expected: 'fail', mustFail: ['a', 'b'], checks: [failed('a'), held('b')] }),
    ).toMatchObject({ verdict: 'DEVIATION', reason: expect.stringContaining('b held') });
    expect(
      decideVerdict({ fired: true, expected: 'fail', mustFail: ['a'], checks: [failed('a'), failed('c')] }),
    ).toMatchObject({
      verdict: 'DEVIATION',
      reason: expect.stringContaining('c failed, which the bug does not explain'),
    });
  });

  it('gives each verdict its own exit code', () => {
    expect(EXIT_CODES).toEqual({ PASS: 0, FAIL: 1, ABORTED: 2, INCONCLUSIVE: 3, DEVIATION: 4 });
  });
});
