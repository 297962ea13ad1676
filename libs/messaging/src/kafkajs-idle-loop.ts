// kafkajs 2.2.4 (its last release) re-arms a timer after every check of a connection's request queue, with a delay
// of `throttledUntil - now`: negative, so 1 ms, whenever nothing is throttled. Every broker connection of every
// client then spins a 1 ms timer for as long as the client lives (kafkajs#1556, #1704; the fix, PR #1667, never
// shipped): about 25 ms of CPU a second per process at idle. The fix is that PR's: no timer when nothing waits and
// nothing is throttled. A request that must wait is queued by `push`, which schedules the check again.
import { createRequire } from 'node:module';

/** The delay of the throttle check kafkajs uses when requests wait on a throttle that has (nearly) ended. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

type RequestQueueClass = { prototype: RequestQueueInternals; __faultlineIdleLoopFixed?: true };

/** Loads kafkajs's RequestQueue (an internal module: the version is pinned, and a test checks the fix applies). */
export function kafkajsRequestQueue(): RequestQueueClass {
  return createRequire(require.resolve('kafkajs'))('./src/network/requestQueue') as RequestQueueClass;
}

export function fixKafkajsIdleLoop(RequestQueue: RequestQueueClass = kafkajsRequestQueue()): void {
  if (RequestQueue.__faultlineIdleLoopFixed) return;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
    if (this.throttleCheckTimeoutId) return;
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
    else if (scheduleAt <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, scheduleAt);
  };
  RequestQueue.__faultlineIdleLoopFixed = true;
}
