import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { packageRoot } from '../console/console-http.js';
import { openApiDocument } from './openapi.js';

/**
 * The reference page's policy: its scripts and stylesheet are files the hub serves (Swagger UI from
 * node_modules, no CDN), it fetches only the hub, and it may not be framed.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Starts Swagger UI on the hub's own document; no validator badge (it would call validator.swagger.io). */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lgsp-hub HTTP API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>
`;

/** Swagger UI's two files, read once from the installed swagger-ui-dist. */
function swaggerUiAssets(): { css: Buffer; bundle: Buffer } {
  const dir = createRequire(import.meta.url)
    .resolve('swagger-ui-dist/package.json')
    .replace(/package\.json$/, '');
  return {
    css: readFileSync(join(dir, 'swagger-ui.css')),
    bundle: readFileSync(join(dir, 'swagger-ui-bundle.js')),
  };
}

/**
 * `/openapi.json`, the OpenAPI document of the HTTP API, and `/docs`, its reference page. Both are
 * public (the request guard lets them through without a token, limited per address): the document is
 * the route catalogue and nothing else, the same for every caller.
 */
@Controller()
export class ApiDocsController {
  private readonly document = JSON.stringify(
    openApiDocument(
      (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version,
    ),
  );
  private readonly assets = swaggerUiAssets();

  @Get('openapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  @Header('cache-control', 'no-cache')
  openapi(): string {
    return this.document;
  }

  @Get('docs')
  page(@Res() reply: FastifyReply): void {
    this.send(reply, 'text/html; charset=utf-8', PAGE);
  }

  @Get('docs/assets/swagger-ui.css')
  css(@Res() reply: FastifyReply): void {
    this.send(reply, 'text/css; charset=utf-8', this.assets.css);
  }

  @Get('docs/assets/swagger-ui-bundle.js')
  bundle(@Res() reply: FastifyReply): void {
    this.send(reply, 'text/javascript; charset=utf-8', this.assets.bundle);
  }

  @Get('docs/assets/docs.js')
  initializer(@Res() reply: FastifyReply): void {
    this.send(reply, 'text/javascript; charset=utf-8', INITIALIZER);
  }

  private send(reply: FastifyReply, type: string, body: string | Buffer): void {
    void reply
      .type(type)
      .header('content-security-policy', DOCS_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'public, max-age=3600')
      .send(body);
  }
}
