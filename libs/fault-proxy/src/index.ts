// The only public surface of @faultline/fault-proxy: a fault-injecting TCP proxy for one service→dependency edge.
export { FaultProxy, type Endpoint, type FaultProxyOptions, type FaultProxyStats } from './fault-proxy';
export { DEFAULT_RETRANSMIT_MS, faultSchema, holdMs, type Fault, type FlowDirection } from './fault';
export { PgStatementCounter, PgStatementTally } from './pg-wire';
