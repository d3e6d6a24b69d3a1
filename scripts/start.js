#!/usr/bin/env node
// `npm start`: runs the built service, building it first when dist/ is missing. Plain JavaScript so it
// works before anything is compiled.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('dist/ is missing: building first (npm run build)\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
require(entry).runFromCli();
