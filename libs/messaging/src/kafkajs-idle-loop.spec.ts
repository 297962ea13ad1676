// The kafkajs request queue's idle loop, on kafkajs's own class: as shipped, a queue with nothing waiting re-arms
// its check every millisecond forever; fixed, it arms nothing until a request waits on a throttle.
import { fixKafkajsIdleLoop, kafkajsRequestQueue } from './kafkajs-idle-loop';

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
type Queue = { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: NodeJS.Timeout | null; checkPendingRequests(): void; canSendSocketRequestImmediately(): boolean };

describe('kafkajs request queue, idle', () => {
  const RequestQueue = kafkajsRequestQueue() as unknown as { new (o: object): Queue; prototype: { scheduleCheckPendingRequests(): void } };
  const shipped = RequestQueue.prototype.scheduleCheckPendingRequests;
  const queue = () => new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30000, enforceRequestTimeout: true, clientId: 't', broker: 'b:1', logger: { namespace: () => logger } });
  const checksIn = async (q: Queue, ms: number) => {
    let checks = 0;
    const check = q.checkPendingRequests.bind(q);
    q.checkPendingRequests = () => {
      checks += 1;
      check();
    };
    q.checkPendingRequests();
    await new Promise((r) => setTimeout(r, ms));
    if (q.throttleCheckTimeoutId) clearTimeout(q.throttleCheckTimeoutId);
    q.throttleCheckTimeoutId = null;
    return checks;
  };

  afterAll(() => {
    RequestQueue.prototype.scheduleCheckPendingRequests = shipped;
  });

  it('as shipped, spins: a queue with nothing to send checks itself again and again', async () => {
    expect(await checksIn(queue(), 200)).toBeGreaterThan(20);
  });

  it('fixed, a queue with nothing waiting arms no timer; one waiting on a throttle is checked when the throttle ends', async () => {
    fixKafkajsIdleLoop(RequestQueue as never);
    const idle = queue();
    expect(await checksIn(idle, 200)).toBe(1);
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 50;
    throttled.pending.push({ correlationId: 1 });
    throttled.canSendSocketRequestImmediately = () => false;
    throttled.checkPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(throttled.throttleCheckTimeoutId as NodeJS.Timeout);
  });
});
