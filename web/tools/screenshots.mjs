// web/tools/screenshots.mjs: the README's screenshots, taken in headless
// Chromium after drawing a digit: docs/screenshot-desktop.png (1280x800)
// and docs/screenshot-phone.png (360x740 at 2x); and after drawing the
// number 417 on the wide pad, docs/screenshot-number.png (the pad and the
// reading beside it). Needs a build (./build.sh build).
//
//   node web/tools/screenshots.mjs [--dark]
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, launch, openPage, drawLines, drawMouse, drawTouch, numberLines, reading }
  from '../../tests/browser/lib/harness.mjs';

const dark = process.argv.includes('--dark');
const docs = path.join(ROOT, 'docs');
fs.mkdirSync(docs, { recursive: true });
const srv = await startServer();
const shots = [
  { file: 'screenshot-desktop.png', opts: { viewport: { width: 1280, height: 800 } }, touch: false },
  { file: 'screenshot-phone.png', opts: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2,
                                          hasTouch: true, isMobile: true }, touch: true },
  { file: 'screenshot-number.png', opts: { viewport: { width: 1280, height: 800 } }, number: '417' },
];

/* The pad and the top of the reading beside it (room above for the
 * digits' labels), in viewport px. */
const padAndReading = (page) => page.evaluate(() => {
  const pad = document.querySelector('.pad-wrap').getBoundingClientRect();
  const res = document.querySelector('.reading').getBoundingClientRect();
  const x = Math.floor(pad.left) - 8, y = Math.floor(Math.min(pad.top, res.top)) - 8;
  return { x, y, width: Math.ceil(res.right) + 8 - x, height: Math.ceil(pad.bottom) + 8 - y };
});
try {
  for (const s of shots) {
    const b = await launch({ ...s.opts, colorScheme: dark ? 'dark' : 'light' });
    try {
      await openPage(b.page, `${srv.url}?sw=0`);
      if (s.number) {
        const aspect = await b.page.evaluate(() => {
          const r = document.querySelector('[data-testid="pad"]').getBoundingClientRect();
          return r.width / r.height;
        });
        await drawLines(b.page, numberLines(s.number, aspect));
      } else {
        await (s.touch ? drawTouch : drawMouse)(b.page, s.touch ? 4 : 7);
      }
      const r = await reading(b.page);
      await b.page.waitForTimeout(300);
      const out = path.join(docs, dark ? s.file.replace('.png', '-dark.png') : s.file);
      await b.page.screenshot({ path: out, clip: s.number ? await padAndReading(b.page) : undefined });
      const shown = s.number ? await b.page.getAttribute('[data-testid="prediction"]', 'data-number')
        : r.digit;
      console.log(`${path.relative(ROOT, out)}: reads ${shown} (${r.state}), ` +
                  `${fs.statSync(out).size} bytes`);
    } finally {
      await b.close();
    }
  }
} finally {
  await srv.stop();
}
