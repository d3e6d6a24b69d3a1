import { Controller, Get, Logger, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth/public.decorator';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DemoAsset, isAssetName, loadDemoAssets } from './demo-assets';
import { demoPage } from './demo-page';

/**
 * Serves the demo page and its assets from the service's own origin, so the page runs under the same
 * Content-Security-Policy as everything else (scripts and styles from 'self', no inline script) and calls
 * the API without CORS. Not part of the API: left out of the OpenAPI document.
 */
@ApiExcludeController()
@Public()
@Controller('demo')
export class DemoController {
  private readonly logger = new Logger(DemoController.name);
  private readonly html: string;
  private assets?: Map<string, DemoAsset>;

  constructor(@InjectConfig() config: AppConfig) {
    const demoUrl = `${config.http.publicUrl}/demo`;
    // Kakao's account logout (KAKAO_API.md 5) returns to the demo; with real Kakao that URL must be
    // registered as a logout redirect URI in the console, as `npm run dev` does for the emulator.
    const kakaoLogout = new URL('/oauth/logout', `${config.kakao.authBaseUrl}/`);
    kakaoLogout.searchParams.set('client_id', config.kakao.restApiKey);
    kakaoLogout.searchParams.set('logout_redirect_uri', demoUrl);
    this.html = demoPage({ publicUrl: config.http.publicUrl, demoUrl, kakaoLogoutUrl: kakaoLogout.toString() });
  }

  @Get()
  page(@Res() reply: FastifyReply): void {
    // The page receives one-time tickets in its query: never cached.
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(this.html);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    const asset = isAssetName(file) ? this.loadAssets().get(file) : undefined;
    if (!asset) throw new NotFoundException();
    void reply.header('content-type', asset.contentType).header('cache-control', 'no-cache').send(asset.body);
  }

  private loadAssets(): Map<string, DemoAsset> {
    if (!this.assets) {
      this.assets = loadDemoAssets();
      if (!this.assets.has('demo.js')) {
        this.logger.warn(
          'The demo page script is not built: run `npm run build` (nest build compiles src/demo/browser)',
        );
      }
    }
    return this.assets;
  }
}
