// web/serve.mjs: a small static server for the page, local use only.
//
//   node web/serve.mjs [--port N] [--web DIR] [--models DIR]
//
// Serves web/ at / and models/ at /models/, bound to 127.0.0.1. The port
// comes from --port, else $PORT, else 8000; port 0 picks a free one. The
// first line on stdout is always "listening http://127.0.0.1:PORT/" so tests
// can start it on a free port and read where it is. .wasm goes out as
// application/wasm (streaming compile), the manifest as
// application/manifest+json; sw.js and HTML are never cached by the browser
// (the service worker does the caching), everything else revalidates.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opt = { port: process.env.PORT ?? '8000', web: here,
                models: path.join(here, '..', 'models') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opt.port = val();
    else if (a === '--web') opt.web = val();
    else if (a === '--models') opt.models = val();
    else if (a === '-h' || a === '--help') {
      console.log('usage: node web/serve.mjs [--port N] [--web DIR] [--models DIR]');
      process.exit(0);
    } else throw new Error(`unknown argument "${a}"`);
  }
  const port = Number(opt.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`bad port "${opt.port}"`);
  return { port, web: path.resolve(opt.web), models: path.resolve(opt.models) };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream', '.bin': 'application/octet-stream',
};

// URL path -> file inside root, or null when it would leave root.
function resolveIn(root, rel) {
  const file = path.normalize(path.join(root, rel));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function main() {
  let opt;
  try {
    opt = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(2);
  }
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return res.end();
    }
    let p;
    try {
      p = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400);
      return res.end();
    }
    if (p.endsWith('/')) p += 'index.html';
    const file = p.startsWith('/models/')
      ? resolveIn(opt.models, p.slice('/models/'.length))
      : resolveIn(opt.web, p.slice(1));
    if (!file) {
      res.writeHead(403);
      return res.end();
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('not found\n');
      }
      const ext = path.extname(file);
      const base = path.basename(file);
      const headers = {
        'content-type': TYPES[ext] || 'application/octet-stream',
        'content-length': st.size,
        'x-content-type-options': 'nosniff',
        'cache-control': base === 'sw.js' || ext === '.html'
          ? 'no-cache, no-store, must-revalidate' : 'no-cache',
      };
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    });
  });
  server.on('error', (e) => {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(1);
  });
  server.listen(opt.port, '127.0.0.1', () => {
    const { port } = server.address();
    console.log(`listening http://127.0.0.1:${port}/`);
    console.error(`serve.mjs: serving ${opt.web} (models from ${opt.models}); ` +
                  `open http://localhost:${port}/ (Ctrl-C stops)`);
  });
  const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
