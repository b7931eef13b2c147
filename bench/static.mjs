/* static.mjs: the benchmarks' static server (bench/browser.mjs,
 * bench/engines.mjs). It serves the repository on 127.0.0.1 with the
 * cross-origin isolation headers that give performance.now() its finest
 * resolution (5 us in Chromium; Firefox and WebKit stay coarser), the
 * page's models/ at /web/models/ as web/serve.mjs serves them, and with
 * wasmDir that folder's .wasm builds in place of web/build's (to compare
 * builds).
 *
 *   const srv = await serveRepo({ wasmDir });  srv.url('/bench/page.html'); srv.close();
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
                '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
                '.jpg': 'image/jpeg', '.png': 'image/png', '.svg': 'image/svg+xml',
                '.webmanifest': 'application/manifest+json' };

export async function serveRepo({ wasmDir = null } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let p = normalize(join(ROOT, path));
    if (!p.startsWith(ROOT + sep)) { res.writeHead(403); return res.end(); }
    if (path.startsWith('/web/models/')) p = normalize(join(ROOT, path.slice(5)));
    if (wasmDir && /^\/web\/build\/[\w-]+\.wasm$/.test(path)) p = join(wasmDir, path.slice(11));
    try {
      const data = await readFile(p);
      res.writeHead(200, { 'content-type': TYPES[extname(p)] || 'application/octet-stream',
                           'cross-origin-opener-policy': 'same-origin',
                           'cross-origin-embedder-policy': 'require-corp' });
      res.end(data);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return { port, url: (path) => `http://127.0.0.1:${port}${path}`, close: () => server.close() };
}
