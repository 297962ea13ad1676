// The correct variants of the catalog through the kind runner on an emulated cluster (.lab/test-kind-emu, ports
// +4800): each PASSes, every check judged, its fault proven the way the kind runner proves it
// (support/kind-emulated-catalog.ts). The naive twins run beside this: chaos-kind-emulated-naive.e2e-spec.ts.
import { describeKindEmulatedCatalog } from '../support/kind-emulated-catalog';

describeKindEmulatedCatalog(
  { LAB_STATE_DIR: '.lab/test-kind-emu', LAB_PORT_OFFSET: '4800', LAB_GATEWAY_PORT: '' },
  'pass',
);
