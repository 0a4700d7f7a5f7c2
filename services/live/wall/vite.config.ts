import path from 'node:path';
import { defineConfig } from 'vite';
import { builtPageConfig } from '../../../shared/web/vite.ts';

/** The wall display: built into services/live/dist/wall and served by the gateway at `/` (no CDN). */
export default defineConfig(builtPageConfig({ root: import.meta.dirname, outDir: path.resolve(import.meta.dirname, '../dist/wall'), devApi: 'http://127.0.0.1:8080' }));
