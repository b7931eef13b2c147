// tests/package/lib/static.mjs: a static file server for the package
// tests (this folder is not globbed by ctest), the way any static host
// serves a folder: DIR's files under PREFIX (e.g. /some/sub/path/) and
// nothing else, .wasm as application/wasm, index.html for a folder. Binds
// 127.0.0.1 on a free port. Every request is logged in .log as
// [status, path], so a test can assert that nothing went elsewhere.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml',
};

/* {url (of PREFIX), log, stop()}; headers: added to every answer. */
export async function serveStatic(dir, prefix = '/', headers = {}) {
  const root = path.resolve(dir);
  const log = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    if (p.startsWith(prefix)) {
      file = path.normalize(path.join(root, p.slice(prefix.length)));
      if (file !== root && !file.startsWith(root + path.sep)) file = null;
      else if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    }
    if (!file || !fs.existsSync(file)) {
      log.push([404, p]);
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    log.push([200, p]);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
                         'cache-control': 'no-cache', ...headers });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    log,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
