#!/usr/bin/env node
// Entry point of `npx lab`. Faultline runs on Node.js 24; when the node that npx found is older and the setup
// installed Node 24 into .tools/node, re-run this command with that one so the user never has to switch by hand.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..', '..', '..');
const major = Number(process.versions.node.split('.')[0]);
const localNode = join(root, '.tools', 'node', 'bin', 'node');
if (major < 24) {
  if (!existsSync(localNode)) {
    console.error(
      `lab: Node.js 24 is required (this is ${process.version}); run \`make setup\`, which installs it into .tools/node`,
    );
    process.exit(1);
  }
  const result = spawnSync(localNode, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
const main = join(root, 'dist', 'apps', 'lab', 'src', 'main.js');
if (!existsSync(main)) {
  console.error('lab: not built yet; run `make setup` (or `npm run build`) first');
  process.exit(1);
}
require(main);
