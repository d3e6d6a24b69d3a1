'use strict';
/**
 * babel-jest with the ESM-to-CommonJS config. Jest caches transformed files by a key that does not see
 * the plugin code inside the config, so the config file's own hash is added to the key.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const babelJest = require('babel-jest').default;

const configFile = path.join(__dirname, 'esm-to-cjs.babel.cjs');
const salt = crypto.createHash('sha256').update(fs.readFileSync(configFile)).digest('hex').slice(0, 16);
const transformer = babelJest.createTransformer(require(configFile));

module.exports = {
  ...transformer,
  getCacheKey: (...args) => `${transformer.getCacheKey(...args)}:${salt}`,
  getCacheKeyAsync: async (...args) => `${await transformer.getCacheKeyAsync(...args)}:${salt}`,
};
