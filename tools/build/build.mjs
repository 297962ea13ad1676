#!/usr/bin/env node
// Builds every app and lib in one TypeScript program into dist/, mirroring the source tree.
//
// Why one program and not a bundler per app: Nest's dependency injection needs `emitDecoratorMetadata`, which only
// tsc (and swc, a native addon) emit; one tsc program over the repo is the simplest build that keeps that metadata.
// tsc does not rewrite the `@faultline/*` path aliases, so after compiling, each lib gets a tiny package under
// dist/node_modules/@faultline/<lib> whose `main` points at its compiled index. Node's ordinary resolution from
// dist/apps/<app>/... walks up to dist/node_modules and finds them; third-party packages still resolve from the
// repository's node_modules. No runtime hook, no path rewriting.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const finalDist = join(root, 'dist');
// Build beside dist/ and swap at the end: a running lab (or a concurrent test) never sees a half-written dist/.
const dist = join(root, `.dist-build-${process.pid}`);
const started = Date.now();
const step = (what) => console.log(`build: ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)`);

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${cmd} ${args.join(' ')} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

step('generating gRPC types from libs/contracts/proto');
run(process.execPath, [join(root, 'libs/contracts/tools/generate.mjs')]);

step('compiling TypeScript (tsc -p tsconfig.build.json)');
rmSync(dist, { recursive: true, force: true });
process.on('exit', () => rmSync(dist, { recursive: true, force: true }));
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist]);

step('copying protos and linking libs into dist/node_modules/@faultline');
cpSync(join(root, 'libs/contracts/proto'), join(dist, 'libs/contracts/proto'), { recursive: true });
const paths = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths;
for (const [alias, [source]] of Object.entries(paths)) {
  const compiled = join(dist, source.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled)) continue; // a lib with no code yet
  const pkgDir = join(dist, 'node_modules', alias);
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(
    join(pkgDir, 'package.json'),
    JSON.stringify({ name: alias, main: relative(pkgDir, compiled) }, null, 2),
  );
}
for (const app of readdirSync(join(dist, 'apps'))) {
  if (!existsSync(join(dist, 'apps', app, 'src', 'main.js'))) {
    console.error(`build: apps/${app} produced no src/main.js`);
    process.exit(1);
  }
}
const previous = `${finalDist}.old-${process.pid}`;
if (existsSync(finalDist)) renameSync(finalDist, previous);
renameSync(dist, finalDist);
rmSync(previous, { recursive: true, force: true });
step('done');
