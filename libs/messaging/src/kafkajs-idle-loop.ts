// Two timers of kafkajs 2.2.4 (its last release) that keep an idle process awake, fixed on its request queue class:
// - after every check of a connection's queue it re-arms a timer of `throttledUntil - now`: negative, so 1 ms,
//   whenever nothing is throttled, for as long as the client lives (kafkajs#1556, #1704; the fix, PR #1667, never
//   shipped): about 25 ms of CPU a second per process. Fixed as that PR does: no timer when nothing waits and nothing
//   is throttled (a request that must wait is queued by `push`, which schedules the check again).
// - each connection checks its in-flight requests for a timeout every 100 ms, forever, even when the only request in
//   flight is a consumer's long-polling fetch: ten wakeups a second per broker connection. Fixed with one timer per
//   request sent, due at its own timeout and cleared when it is answered or rejected.
import { createRequire } from 'node:module';

/** The delay of the throttle check kafkajs uses when requests wait on a throttle that has (nearly) ended. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

interface SocketRequestInternals {
  correlationId: number;
  requestTimeout: number;
  send(): void;
  completed(...args: unknown[]): void;
  rejected(...args: unknown[]): void;
  timeoutRequest(): void;
}

interface RequestQueueInternals {
  pending: unknown[];
  inflight: Map<number, SocketRequestInternals>;
  enforceRequestTimeout: boolean;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  createSocketRequest(pushed: unknown): SocketRequestInternals;
  destroy(): void;
}

type RequestQueueClass = { prototype: RequestQueueInternals; __faultlineIdleLoopFixed?: true };

/** Loads kafkajs's RequestQueue (an internal module: the version is pinned, and a test checks the fix applies). */
export function kafkajsRequestQueue(): RequestQueueClass {
  return createRequire(require.resolve('kafkajs'))('./src/network/requestQueue') as RequestQueueClass;
}

export function fixKafkajsIdleLoop(RequestQueue: RequestQueueClass = kafkajsRequestQueue()): void {
  if (RequestQueue.__faultlineIdleLoopFixed) return;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueueInternals,
  ) {
    if (this.throttleCheckTimeoutId) return;
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
    else if (scheduleAt <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, scheduleAt);
  };
  // Called once the socket connects; kafkajs starts its 100 ms sweep here. Only what it cleared first remains.
  RequestQueue.prototype.scheduleRequestTimeoutCheck = function scheduleRequestTimeoutCheck(
    this: RequestQueueInternals,
  ) {
    this.destroy();
  };
  const createSocketRequest = RequestQueue.prototype.createSocketRequest;
  RequestQueue.prototype.createSocketRequest = function timedSocketRequest(
    this: RequestQueueInternals,
    pushed: unknown,
  ) {
    const request = createSocketRequest.call(this, pushed);
    if (!this.enforceRequestTimeout) return request;
    const { inflight } = this;
    const { send, completed, rejected } = request;
    let timer: NodeJS.Timeout | undefined;
    request.send = function sendWithTimeout(this: SocketRequestInternals) {
      send.call(this);
      // As kafkajs's sweep: a request still in flight after its timeout is timed out (and so rejected).
      timer = setTimeout(() => {
        if (inflight.get(this.correlationId) === this) this.timeoutRequest();
      }, this.requestTimeout);
    };
    request.completed = function completedInTime(this: SocketRequestInternals, ...args: unknown[]) {
      clearTimeout(timer);
      completed.apply(this, args);
    };
    request.rejected = function rejectedInTime(this: SocketRequestInternals, ...args: unknown[]) {
      clearTimeout(timer);
      rejected.apply(this, args);
    };
    return request;
  };
  RequestQueue.__faultlineIdleLoopFixed = true;
}
