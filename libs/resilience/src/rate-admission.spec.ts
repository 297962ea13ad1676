import { RateAdmission } from './rate-admission';

describe('RateAdmission', () => {
  it('admits a burst at once, then the rate, and never saves more than the burst', () => {
    let t = 0;
    const admission = new RateAdmission(10, 5, () => t);
    expect(Array.from({ length: 7 }, () => admission.tryAdmit())).toEqual([true, true, true, true, true, false, false]);
    t += 100; // one token
    expect([admission.tryAdmit(), admission.tryAdmit()]).toEqual([true, false]);
    t += 60_000; // a minute idle saves the burst, not 600
    expect(Array.from({ length: 6 }, () => admission.tryAdmit()).filter(Boolean)).toHaveLength(5);
  });

  it('over a second admits burst + rate, whatever is offered', () => {
    let t = 0;
    const admission = new RateAdmission(30, 10, () => t);
    let admitted = 0;
    for (let i = 0; i < 1500; i++) {
      t = i * (1000 / 1500);
      if (admission.tryAdmit()) admitted++;
    }
    expect(admitted).toBeGreaterThanOrEqual(39);
    expect(admitted).toBeLessThanOrEqual(40);
  });

  it('refuses a rate or burst that admits nothing', () => {
    expect(() => new RateAdmission(0, 10)).toThrow(RangeError);
    expect(() => new RateAdmission(10, 0)).toThrow(RangeError);
  });
});
