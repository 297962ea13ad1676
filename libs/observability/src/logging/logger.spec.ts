import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './logger';

const contextManager = new AsyncLocalStorageContextManager().enable();
beforeAll(() => context.setGlobalContextManager(contextManager));
afterAll(() => context.disable());

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('log lines and traces', () => {
  it('carry the active span’s trace id and span id, and nothing when no span is active', () => {
    const { lines, stream } = capture();
    const logger = createLogger('orders', 'info', stream);
    const span = trace.wrapSpanContext({
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => logger.child({ requestId: 'r1' }).info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      service: 'orders',
      requestId: 'r1',
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
    });
    expect(lines[1]).not.toHaveProperty('traceId');
    expect(lines[1]).not.toHaveProperty('spanId');
  });
});
