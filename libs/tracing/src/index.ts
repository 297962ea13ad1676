export { startTracing, type TracingHandle } from './start-tracing';
export { resourceAttributesFromEnv, tracingResource } from './tracing-resource';
export {
  ATTR_ORDER_ID,
  TRACER_NAME,
  activeTraceIds,
  contextFromTraceparent,
  currentTraceparent,
  inSpan,
  setSpanAttributes,
  spanEvent,
  SpanKind,
  SpanStatusCode,
  withoutInstrumentation,
} from './trace-context';
