// The naive twins of the catalog through the kind runner on an emulated cluster (.lab/test-kind-emu-naive, ports
// +5200): each FAILs as designed on exactly its named checks, its variant rolled out through the overlay and restored
// after (support/kind-emulated-catalog.ts). The correct variants run beside this: chaos-kind-emulated-pass.e2e-spec.ts.
import { describeKindEmulatedCatalog } from '../support/kind-emulated-catalog';

describeKindEmulatedCatalog(
  { LAB_STATE_DIR: '.lab/test-kind-emu-naive', LAB_PORT_OFFSET: '5200', LAB_GATEWAY_PORT: '' },
  'fail',
);
