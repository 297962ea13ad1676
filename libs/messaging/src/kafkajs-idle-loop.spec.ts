// The kafkajs request queue's idle timers, on kafkajs's own class: as shipped, a queue with nothing waiting re-arms
// its check every millisecond forever, and a connected queue sweeps for timeouts every 100 ms; fixed, it arms nothing
// until a request waits on a throttle, and each request sent times out on its own timer.
import { fixKafkajsIdleLoop, kafkajsRequestQueue } from './kafkajs-idle-loop';

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
type Queue = {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  checkPendingRequests(): void;
  canSendSocketRequestImmediately(): boolean;
  scheduleRequestTimeoutCheck(): void;
  push(request: object): void;
  fulfillRequest(response: { correlationId: number; payload: unknown; size: number }): void;
  destroy(): void;
};

describe('kafkajs request queue, idle', () => {
  const RequestQueue = kafkajsRequestQueue() as unknown as {
    new (o: object): Queue;
    prototype: Record<string, unknown>;
  };
  const shipped = {
    ...Object.fromEntries(
      ['scheduleCheckPendingRequests', 'scheduleRequestTimeoutCheck', 'createSocketRequest'].map((m) => [
        m,
        RequestQueue.prototype[m],
      ]),
    ),
  };
  const queue = (requestTimeout = 30000) =>
    new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout,
      enforceRequestTimeout: true,
      clientId: 't',
      broker: 'b:1',
      logger: { namespace: () => logger },
    });
  /** A request as a broker connection pushes it; `answer` settles with what its entry was told. */
  const request = (correlationId: number) => {
    let settle: (outcome: string) => void = () => undefined;
    const answer = new Promise<string>((resolve) => (settle = resolve));
    const entry = {
      correlationId,
      apiName: 'Fetch',
      apiKey: 1,
      apiVersion: 11,
      resolve: () => settle('answered'),
      reject: (error: Error) => settle(`rejected: ${error.name}`),
    };
    return { pushed: { entry, expectResponse: true, sendRequest: () => undefined }, answer };
  };
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
    Object.assign(RequestQueue.prototype, shipped);
    jest.useRealTimers();
  });

  it('as shipped, spins: a queue with nothing to send checks itself again and again', async () => {
    expect(await checksIn(queue(), 200)).toBeGreaterThan(20);
  });

  it('as shipped, a connected queue sweeps its requests for timeouts every 100 ms, for as long as it lives', () => {
    const connected = queue();
    connected.scheduleRequestTimeoutCheck();
    expect(connected.requestTimeoutIntervalId).toBeDefined();
    connected.destroy();
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

  it('fixed, a connected queue has no sweep, and each request sent times out on its own timer unless answered first', async () => {
    fixKafkajsIdleLoop(RequestQueue as never);
    jest.useFakeTimers();
    const connected = queue(5000);
    connected.scheduleRequestTimeoutCheck();
    expect(connected.requestTimeoutIntervalId).toBeUndefined();
    const answered = request(1);
    const unanswered = request(2);
    connected.push(answered.pushed);
    connected.push(unanswered.pushed);
    jest.advanceTimersByTime(4000);
    connected.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    jest.advanceTimersByTime(2000);
    // Both timers are gone: one fired, the answered request's was cleared.
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
    expect(await Promise.all([answered.answer, unanswered.answer])).toEqual([
      'answered',
      'rejected: KafkaJSRequestTimeoutError',
    ]);
  });
});
