import { json, startTestApp, TestApp } from '../support/app';
import { ensureBuilt } from '../support/process';

/** How /demo is served (no browser needed): only where enabled, under the service's CSP, assets whitelisted. */
describe('the /demo route', () => {
  describe('enabled (DEMO_ENABLED=true)', () => {
    let t: TestApp;
    beforeAll(async () => {
      ensureBuilt(); // the page's script is the build's output (nest build compiles src/demo/browser)
      t = await startTestApp({ env: { DEMO_ENABLED: 'true' } });
    });
    afterAll(() => t.close());

    it('serves the page under the service CSP: script and style are same-origin files, nothing inline', async () => {
      const res = await fetch(`${t.url}/demo`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(/script-src[^;]*unsafe-inline/.test(csp)).toBe(false);
      const html = await res.text();
      expect(html).toContain('<script type="module" src="demo/assets/demo.js"></script>');
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
      expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
      expect(html).toContain(`data-demo-url="${t.config.http.publicUrl}/demo"`);
      expect(html).toContain('카카오 로그인');
    });

    it('serves the compiled browser modules as ES modules and the stylesheet, and nothing else', async () => {
      for (const file of ['demo.js', 'api.js', 'dom.js']) {
        const res = await fetch(`${t.url}/demo/assets/${file}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
        const source = await res.text();
        expect(source).not.toContain('exports'); // not CommonJS
        expect(source).not.toContain('sourceMappingURL');
      }
      expect(await (await fetch(`${t.url}/demo/assets/demo.js`)).text()).toContain("from './api.js'");
      const css = await fetch(`${t.url}/demo/assets/demo.css`);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect(await css.text()).toContain('#FEE500');
      for (const path of ['package.json', 'demo.js.map', 'demo.ts', '..%2Fdemo.controller.js', 'nope.js']) {
        const res = await fetch(`${t.url}/demo/assets/${path}`);
        expect(res.status).toBe(404);
        expect((await json(res)).code).toBe('NOT_FOUND');
      }
    });

    it('stays out of the OpenAPI document', async () => {
      const doc = await json(await fetch(`${t.url}/docs-json`));
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/demo'))).toEqual([]);
    });
  });

  describe('disabled (the default outside development)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('answers 404 NOT_FOUND in the error shape, as for any unknown route', async () => {
      expect(t.config.http.demoEnabled).toBe(false);
      for (const path of ['/demo', '/demo/assets/demo.js', '/demo/assets/demo.css']) {
        const res = await fetch(`${t.url}${path}`);
        expect(res.status).toBe(404);
        expect(await json(res)).toEqual({
          statusCode: 404,
          code: 'NOT_FOUND',
          message: 'Not found',
          requestId: res.headers.get('x-request-id'),
        });
      }
    });
  });
});
