// The part of opossum 10's API this library uses. opossum ships no types and @types/opossum (8.1.9 on npm) describes
// an older major; this declaration is deliberately small and covers only what circuit-breaker.ts calls.
declare module 'opossum' {
  import { EventEmitter } from 'node:events';

  namespace CircuitBreaker {
    interface Options {
      /** ms before a call counts as a timeout (false: never). */
      timeout?: number | false;
      errorThresholdPercentage?: number;
      resetTimeout?: number;
      rollingCountTimeout?: number;
      rollingCountBuckets?: number;
      volumeThreshold?: number;
      allowWarmUp?: boolean;
      capacity?: number;
      name?: string;
      /** true: the error is the caller's, not the dependency's, and does not count as a failure. */
      errorFilter?: (error: unknown) => boolean;
    }
  }

  class CircuitBreaker<TArgs extends unknown[] = unknown[], TResult = unknown> extends EventEmitter {
    constructor(action: (...args: TArgs) => Promise<TResult>, options?: CircuitBreaker.Options);
    fire(...args: TArgs): Promise<TResult>;
    readonly opened: boolean;
    readonly closed: boolean;
    readonly halfOpen: boolean;
    readonly name: string;
    open(): void;
    close(): void;
    shutdown(): void;
  }

  export = CircuitBreaker;
}
