import path from 'node:path';
import { defineConfig } from 'vite';

/** The wall display: built into services/live/dist/wall and served by the gateway at `/` (no CDN). */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist/wall'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:8080', ws: true } } },
});
