import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopLag } from './event-loop-lag';

const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* the CPU-bound work of an overloaded server */
  }
};

it('counts a loop late window after window as sustained, and one pause as nothing', async () => {
  const lag = new EventLoopLag({ resolutionMs: 10, windowMs: 100 });
  try {
    await sleep(250);
    block(300);
    await sleep(150);
    // One pause of 300 ms falls in one window (or two, the second barely late): not sustained.
    expect(lag.sustainedMs).toBeLessThan(300);
    for (let i = 0; i < 4; i++) {
      block(250);
      await sleep(1);
    }
    expect(lag.sustainedMs).toBeGreaterThanOrEqual(200);
    await sleep(350);
    expect(lag.sustainedMs).toBeLessThan(200);
  } finally {
    lag.stop();
  }
});
