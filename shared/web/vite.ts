import path from 'node:path';
import type { Plugin, UserConfig } from 'vite';

/**
 * Fontsource's @font-face rules name a .woff after each .woff2; every browser that runs the
 * pages reads woff2, so the .woff copies (another 10 MB of Chinese) are left out of the build.
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

/**
 * A page built by Vite and served by its service at `/` (the wall, the booking page): no
 * CDN, the shipped fonts as woff2 files (fonts.ts) with their licences (public/), ES2022.
 * `devApi` is where `vite` (the dev server) sends `devPaths` (and their WebSockets).
 */
export function builtPageConfig(page: { root: string; outDir: string; devApi: string; devPaths?: readonly string[] }): UserConfig {
  return {
    root: page.root,
    base: '/',
    publicDir: path.resolve(import.meta.dirname, 'public'),
    plugins: [woff2Only()],
    build: {
      outDir: page.outDir,
      emptyOutDir: true,
      target: 'es2022',
      reportCompressedSize: false,
      // Fonts stay files, never data: URLs: the CSP allows fonts from 'self' only (and a slice is fetched only when needed).
      assetsInlineLimit: (file) => (/\.woff2?$/.test(file) ? false : undefined),
    },
    server: { proxy: Object.fromEntries((page.devPaths ?? ['/v1']).map((prefix) => [prefix, { target: page.devApi, ws: true }])) },
  };
}
