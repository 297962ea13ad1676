// Proves that the layering of docs/architecture.md ("Layering") is enforced by lint, by linting small fixtures as if
// they were files of the tree. If @nx/enforce-module-boundaries were misconfigured or silently skipped (it skips
// itself when no project graph is cached), the violations below would pass and this test would fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** Lints `code` as if it were `file`, with the real ESLint CLI and the repository's config (as `npm run lint` does). */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/eslint/bin/eslint.js'),
      '--stdin',
      '--stdin-filename',
      join(root, file),
      '--format',
      'json',
    ],
    {
      cwd: root,
      input: code,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    },
  );
  const [report] = JSON.parse(result.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return report.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

beforeAll(() => {
  // What `npm run lint` does first: compute and cache the project graph the rule reads.
  execFileSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'ignore',
  });
});

describe('module boundaries', () => {
  it('fails when an app imports another app', async () => {
    const errors = await boundaryErrors(
      'apps/gateway/src/boundary-fixture.ts',
      "import { OrdersModule } from '../../orders/src/orders.module';\nexport const m = OrdersModule;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('fails when a lib imports an app', async () => {
    const errors = await boundaryErrors(
      'libs/config/src/boundary-fixture.ts',
      "import { ordersConfigSchema } from '../../../apps/orders/src/orders.config';\nexport const s = ordersConfigSchema;\n",
    );
    expect(errors).toHaveLength(1);
  });

  it('fails when the contracts lib depends on another lib of ours', async () => {
    const errors = await boundaryErrors(
      'libs/contracts/src/boundary-fixture.ts',
      "import { env } from '@faultline/config';\nexport const e = env;\n",
    );
    expect(errors).toEqual([expect.stringContaining('type:contracts')]);
  });

  it('fails when a service imports a lab-only lib (scope:lab)', async () => {
    const errors = await boundaryErrors(
      'apps/orders/src/boundary-fixture.ts',
      "import { runLoad } from '@faultline/load';\nexport const r = runLoad;\n",
    );
    expect(errors).toEqual([
      expect.stringContaining('"scope:orders" can only depend on libs tagged with "scope:orders", "scope:shared"'),
    ]);
    const fromShared = await boundaryErrors(
      'libs/messaging/src/boundary-fixture.ts',
      "import { FaultProxy } from '@faultline/fault-proxy';\nexport const p = FaultProxy;\n",
    );
    expect(fromShared).toEqual([
      expect.stringContaining('"scope:shared" can only depend on libs tagged with "scope:shared"'),
    ]);
  });

  it("accepts a service's tests using the lab's libs (the fault proxy on an edge)", async () => {
    const errors = await boundaryErrors(
      'apps/gateway/test/boundary-fixture.ts',
      "import { FaultProxy } from '@faultline/fault-proxy';\nexport const p = FaultProxy;\n",
    );
    expect(errors).toEqual([]);
  });

  it('accepts the lab importing its own libs and the shared ones', async () => {
    const errors = await boundaryErrors(
      'apps/lab/src/boundary-fixture.ts',
      "import { runLoad } from '@faultline/load';\nimport { signAccessToken } from '@faultline/auth';\nexport const r = [runLoad, signAccessToken];\n",
    );
    expect(errors).toEqual([]);
  });

  it('accepts an app that talks to others through libs/contracts', async () => {
    const errors = await boundaryErrors(
      'apps/gateway/src/boundary-fixture.ts',
      "import { ORDERS_V1 } from '@faultline/contracts';\nexport const c = ORDERS_V1;\n",
    );
    expect(errors).toEqual([]);
  });
});
