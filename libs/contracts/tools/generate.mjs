#!/usr/bin/env node
// Generates TypeScript types for every .proto under libs/contracts/proto into libs/contracts/src/generated/, with
// @grpc/proto-loader's own generator (pure JavaScript: no protoc).
//
// The generator options come from src/proto-loader-options.json, the same file the runtime loader options
// (PROTO_LOADER_OPTIONS) are built from, so the generated types always describe the objects grpc-js and Nest hand
// to our code.
//
// Idempotent and quiet on disk: it generates into a temporary folder, then writes only the files whose content
// changed and deletes generated files whose proto is gone. Nothing outside src/generated/ is written (the temporary
// folder is removed). Any failure exits non-zero with the generator's own message.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const contractsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(contractsDir, 'proto');
const outDir = join(contractsDir, 'src', 'generated');
const optionsFile = join(contractsDir, 'src', 'proto-loader-options.json');
const generatorBin = join(
  contractsDir,
  '..',
  '..',
  'node_modules',
  '@grpc',
  'proto-loader',
  'build',
  'bin',
  'proto-loader-gen-types.js',
);

function fail(message) {
  console.error(`contracts: ${message}`);
  process.exit(1);
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

// Drops folders emptied by removals (a proto or package that no longer exists), deepest first.
function removeEmptyDirs(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyDirs(join(dir, entry.name));
  }
  if (dir !== outDir && readdirSync(dir).length === 0) rmdirSync(dir);
}

// Maps the runtime options (src/proto-loader-options.json) to generator flags. Unknown keys fail: an option the
// generator does not hear about would make the types lie about the runtime shapes.
function generatorFlags(options) {
  const flags = [];
  for (const [key, value] of Object.entries(options)) {
    switch (key) {
      case 'keepCase':
      case 'defaults':
      case 'arrays':
      case 'objects':
      case 'oneofs':
      case 'json':
        if (typeof value !== 'boolean') fail(`${optionsFile}: "${key}" must be a boolean`);
        flags.push(`--${key}=${value}`);
        break;
      case 'longs':
      case 'enums':
      case 'bytes':
        if (typeof value !== 'string') fail(`${optionsFile}: "${key}" must be a string`);
        flags.push(`--${key}`, value);
        break;
      default:
        fail(`${optionsFile}: option "${key}" is not supported by generate.mjs`);
    }
  }
  return flags;
}

const protos = walk(protoDir)
  .filter((file) => file.endsWith('.proto'))
  .map((file) => relative(protoDir, file))
  .sort();
if (protos.length === 0) fail(`no .proto files under ${protoDir}`);

// The generator names one root file per input after its base name (orders/v1/orders.proto -> orders.ts), so two
// protos with the same base name (e.g. a future orders/v2/orders.proto) would overwrite each other's root file.
const byBaseName = new Map();
for (const proto of protos) {
  const name = basename(proto);
  if (byBaseName.has(name))
    fail(`${byBaseName.get(name)} and ${proto} share a base name; rename one (e.g. orders_v2.proto)`);
  byBaseName.set(name, proto);
}

const options = JSON.parse(readFileSync(optionsFile, 'utf8'));
const staging = mkdtempSync(join(tmpdir(), 'faultline-contracts-'));
try {
  const args = [
    generatorBin,
    ...generatorFlags(options),
    '--grpcLib',
    '@grpc/grpc-js',
    '--includeComments',
    '-I',
    'proto',
    '--outDir',
    staging,
    // Forward slashes on every platform: the generator records these paths in the files it writes.
    ...protos.map((proto) => proto.split(sep).join('/')),
  ];
  const result = spawnSync(process.execPath, args, { cwd: contractsDir, encoding: 'utf8' });
  if (result.error) fail(`could not run proto-loader-gen-types: ${result.error.message}`);
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    fail(`proto-loader-gen-types failed with exit code ${result.status}`);
  }

  const generated = new Map(walk(staging).map((file) => [relative(staging, file), readFileSync(file, 'utf8')]));
  if (generated.size === 0) fail('proto-loader-gen-types produced no files');

  let written = 0;
  for (const [file, content] of generated) {
    const target = join(outDir, file);
    if (existsSync(target) && readFileSync(target, 'utf8') === content) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    written += 1;
  }
  let removed = 0;
  for (const target of walk(outDir)) {
    if (generated.has(relative(outDir, target))) continue;
    rmSync(target);
    removed += 1;
  }
  removeEmptyDirs(outDir);

  console.log(
    `contracts: ${protos.length} protos -> ${relative(process.cwd(), outDir) || '.'}: ` +
      `${generated.size} files (${written} written, ${generated.size - written} unchanged, ${removed} removed)`,
  );
  for (const proto of protos) console.log(`contracts:   proto/${proto.split(sep).join('/')}`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
