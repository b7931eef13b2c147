// web/tools/screenshots.mjs: the README's screenshots, taken in headless
// Chromium after drawing a digit: docs/screenshot-desktop.png (1280x800)
// and docs/screenshot-phone.png (360x740 at 2x). Needs a build
// (./build.sh build).
//
//   node web/tools/screenshots.mjs [--dark]
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, launch, openPage, drawMouse, drawTouch, reading }
  from '../../tests/browser/lib/harness.mjs';

const dark = process.argv.includes('--dark');
const docs = path.join(ROOT, 'docs');
fs.mkdirSync(docs, { recursive: true });
const srv = await startServer();
const shots = [
  { file: 'screenshot-desktop.png', opts: { viewport: { width: 1280, height: 800 } }, touch: false },
  { file: 'screenshot-phone.png', opts: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2,
                                          hasTouch: true, isMobile: true }, touch: true },
];
try {
  for (const s of shots) {
    const b = await launch({ ...s.opts, colorScheme: dark ? 'dark' : 'light' });
    try {
      await openPage(b.page, `${srv.url}?sw=0`);
      await (s.touch ? drawTouch : drawMouse)(b.page, s.touch ? 4 : 7);
      const r = await reading(b.page);
      await b.page.waitForTimeout(300);
      const out = path.join(docs, dark ? s.file.replace('.png', '-dark.png') : s.file);
      await b.page.screenshot({ path: out });
      console.log(`${path.relative(ROOT, out)}: reads ${r.digit} (${r.state}), ` +
                  `${fs.statSync(out).size} bytes`);
    } finally {
      await b.close();
    }
  }
} finally {
  await srv.stop();
}
