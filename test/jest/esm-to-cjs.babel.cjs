'use strict';
/**
 * Jest on Node 20 cannot require() ES modules (Node 24.9+ can), but NestJS 12, jose and a few other
 * dependencies ship ESM only. Production is unaffected (Node >= 20.19 loads them through require(esm));
 * for tests, this Babel config rewrites those packages to CommonJS. `import.meta` has no CommonJS
 * equivalent, so it is replaced by an object built from __filename.
 */
const COMMONJS_GLOBALS = new Set(['require', '__dirname', '__filename']);

function importMetaToCommonJs({ template }) {
  const replacement = template.expression.ast(`({
    url: require('url').pathToFileURL(__filename).href,
    filename: __filename,
    dirname: __dirname,
    resolve: (s) => require('url').pathToFileURL(require.resolve(s)).href,
  })`);
  const dynamicImport = template.expression(`Promise.resolve().then(() => {
    const m = require(SPECIFIER);
    return m && m.__esModule ? m : Object.assign({ default: m }, m);
  })`);
  return {
    visitor: {
      Program: {
        // Runs before the CommonJS transform. ES modules often recreate CommonJS globals
        // (`const require = createRequire(import.meta.url)`, `const __dirname = …`); in CommonJS they already
        // exist, and the redeclaration would shadow them, so it is dropped.
        enter(program) {
          for (const statement of program.get('body')) {
            if (!statement.isVariableDeclaration()) continue;
            for (const declarator of statement.get('declarations')) {
              const { id, init } = declarator.node;
              if (id.type === 'Identifier' && COMMONJS_GLOBALS.has(id.name) && init) declarator.remove();
            }
          }
        },
      },
      // Jest's sandbox has no dynamic import() without --experimental-vm-modules; a require() wrapped in a
      // promise gives the same namespace object for both CommonJS and transformed ES modules.
      CallExpression(path) {
        if (path.node.callee.type !== 'Import') return;
        path.replaceWith(dynamicImport({ SPECIFIER: path.node.arguments[0] }));
      },
      MetaProperty(path) {
        if (path.node.meta.name === 'import' && path.node.property.name === 'meta') {
          path.replaceWith(replacement);
        }
      },
    },
  };
}

module.exports = {
  babelrc: false,
  configFile: false,
  sourceType: 'unambiguous',
  compact: true,
  plugins: [importMetaToCommonJs, '@babel/plugin-transform-modules-commonjs'],
};
