import path from 'node:path';
import { defineConfig } from 'vite';
import { builtPageConfig } from '../../../shared/web/vite.ts';

/** The dispatchers' booking page: built into services/slots/dist/page and served by the slots API at `/` (no CDN). */
export default defineConfig(builtPageConfig({ root: import.meta.dirname, outDir: path.resolve(import.meta.dirname, '../dist/page'), devApi: 'http://127.0.0.1:8082', devPaths: ['/v1', '/booking-page.json'] }));
