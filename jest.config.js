'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Names of installed packages that are ES modules ("type": "module"), top level and nested. */
function esmPackages(dir, found = new Set()) {
  if (!fs.existsSync(dir)) return found;
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    const names = entry.startsWith('@') ? fs.readdirSync(full).map((n) => [`${entry}/${n}`, path.join(full, n)]) : [[entry, full]];
    for (const [name, pkgDir] of names) {
      try {
        if (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).type === 'module') found.add(name);
      } catch {
        // not a package
      }
      esmPackages(path.join(pkgDir, 'node_modules'), found);
    }
  }
  return found;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const esm = [...esmPackages(path.join(__dirname, 'node_modules'))].map(escape).join('|');
// Ignore a node_modules file unless the innermost package it belongs to is an ES module (see esm-to-cjs.babel.cjs).
const transformIgnorePatterns = [`^(?!.*/node_modules/(?:${esm})/(?!.*/node_modules/)).*/node_modules/`];

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  '^.+\\.m?js$': '<rootDir>/test/jest/esm-transformer.cjs',
};

const common = { rootDir: __dirname, transform, transformIgnorePatterns, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'mjs', 'json'] };

module.exports = {
  // A global option (ignored inside `projects`): e2e tests spawn processes and databases, which on a loaded
  // 2-core machine can take longer than Jest's default 5 s.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{src,emulator,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      slowTestThreshold: 20,
    },
    {
      // The demo page in Debian's Chromium (playwright-core); skipped with a message where it is not installed.
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
};
