import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/**
 * Fontsource's @font-face rules name a .woff after each .woff2; every browser that runs the
 * wall reads woff2, so the .woff copies (another 10 MB of Chinese) are left out of the build.
 */
function woff2Only(): Plugin {
  return {
    name: 'tower-woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]@fontsource[\\/].*\.css$/.test(id)) return undefined;
      return { code: code.replace(/,\s*url\([^)]*\.woff\)\s*format\('woff'\)/g, ''), map: null };
    },
  };
}

/** The wall display: built into services/live/dist/wall and served by the gateway at `/` (no CDN). */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [woff2Only()],
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist/wall'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    // Fonts stay files, never data: URLs: the CSP allows fonts from 'self' only (and a slice is fetched only when needed).
    assetsInlineLimit: (file) => (/\.woff2?$/.test(file) ? false : undefined),
  },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:8080', ws: true } } },
});
