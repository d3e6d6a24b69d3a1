import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_CSS } from './demo-style';

export interface DemoAsset {
  contentType: string;
  body: Buffer;
}

/** File names the page may load: the stylesheet and the compiled browser modules (nothing else). */
const ASSET_NAME = /^[a-z][a-z0-9-]*\.(js|css)$/;

/**
 * Where `nest build` put the compiled browser modules. `src/demo/browser` has a package.json with
 * `"type": "module"`, so tsc (module nodenext) emits them as ES modules next to this file's output
 * (dist/src/demo/browser), loaded by the page with `<script type="module">`. When this file runs from src/
 * (ts-jest), only the TypeScript sources are beside it: the tests then serve the build's output, which
 * `npm test` makes first.
 */
export function browserBuildDir(): string | undefined {
  const candidates = [
    path.join(__dirname, 'browser'),
    path.resolve(__dirname, '..', '..', 'dist', 'src', 'demo', 'browser'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'demo.js')));
}

/** Reads the page's assets once: the stylesheet from code, the scripts from the build. */
export function loadDemoAssets(dir = browserBuildDir()): Map<string, DemoAsset> {
  const assets = new Map<string, DemoAsset>([
    ['demo.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(DEMO_CSS, 'utf8') }],
  ]);
  if (!dir) return assets;
  for (const file of readdirSync(dir)) {
    if (!ASSET_NAME.test(file) || !file.endsWith('.js')) continue;
    // The source map comment points at files that are not served; the browser would only log a 404.
    const source = readFileSync(path.join(dir, file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    assets.set(file, { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(source, 'utf8') });
  }
  return assets;
}

export const isAssetName = (name: string): boolean => ASSET_NAME.test(name);
