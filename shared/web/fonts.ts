/*
 * The fonts the built pages ship (the wall, the booking page; bundled by Vite, served by their
 * service; no CDN, nothing from the machine): a control room PC or a dispatcher's phone may have
 * no Chinese font at all, and then 中文 is boxes. In the order the pages' style.css names them:
 * Noto Sans for Latin and Vietnamese; DejaVu Sans for the icons and signs Noto Sans lacks (✔ ✖ ▲ ■ ↻ ⚒ ♪ ━ ≥: Noto Sans SC has some of them, but ≥ as
 * the slanted ⩾ and in another style than the rest); Noto Sans SC for Chinese, sliced by
 * unicode-range so that the browser fetches only the slices on screen. Two weights, 400 and
 * 700: the pages ask for no other.
 * Imported from here rather than with CSS @import so that the Vite config (vite.ts) sees each
 * file (it drops their .woff copies). Licences: public/fonts-LICENSE.txt (served beside the fonts).
 */
import '@fontsource/noto-sans/latin-400.css';
import '@fontsource/noto-sans/latin-700.css';
import '@fontsource/noto-sans/vietnamese-400.css';
import '@fontsource/noto-sans/vietnamese-700.css';
import '@fontsource/noto-sans-sc/400.css';
import '@fontsource/noto-sans-sc/700.css';
import '@fontsource/dejavu-sans/400.css';
import '@fontsource/dejavu-sans/700.css';
