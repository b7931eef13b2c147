/* sw-src.js: the service worker's source. web/tools/build-sw.mjs copies it
 * to web/sw.js (git-ignored) with the build's version and precache list put
 * in place of the two placeholders below; the page registers sw.js.
 *
 * - install: fetch every precache entry (bypassing the HTTP cache) into
 *   "digits-precache-<version>"; an entry whose content hash is unchanged
 *   is copied from the previous version's cache instead of downloaded,
 *   and one the browser's HTTP cache holds with that hash (what the page
 *   fetched on this first visit) is taken from there. Of
 *   the three .wasm builds only the one named by the page in the worker's
 *   URL (sw.js?build=relaxed|simd|plain, the build its feature detection
 *   picks) is precached: a phone downloads one, not three. Without a valid
 *   ?build= (a page from before it existed) all three are.
 * - activate: delete every other "digits-precache-*" cache, take control.
 * - fetch: precached URLs from the cache (navigations get index.html, so
 *   ?simd=0 and the like work offline); another build (?simd=0) from the
 *   network the first time, then from the version's cache; other shipped
 *   models stale-while-revalidate in "digits-models"; everything else
 *   network.
 * - a new version waits until the page posts {type: 'SKIP_WAITING'} (the
 *   "Update available, Reload" prompt).
 */
const VERSION = '__DIGITS_VERSION__';
const PRECACHE = /* [[url, hash], ...] relative to this file */ [] /*__DIGITS_PRECACHE__*/;
const BUILDS = /* {relaxed, simd, plain}: [url, hash] */ {} /*__DIGITS_BUILDS__*/;

const PREFIX = 'digits-precache-';
const CACHE = PREFIX + VERSION;
const MODELS = 'digits-models';
const HASHES = 'digits-hashes';  /* url -> hash of each version's copy */

const abs = (u) => new URL(u, self.registration.scope).href;
const wanted = new URL(self.location.href).searchParams.get('build');
const builds = Object.hasOwn(BUILDS, wanted) ? [BUILDS[wanted]] : Object.values(BUILDS);
const entries = [...PRECACHE, ...builds].map(([u, h]) => ({ url: abs(u), hash: h }));
const urls = new Set(entries.map((e) => e.url));
const buildUrls = new Set(Object.values(BUILDS).map(([u]) => abs(u)));
const INDEX = abs('index.html');

async function oldCopy(url, hash) {
  const known = await (await caches.open(HASHES)).match(`${url}#${hash}`);
  if (!known) return null;
  const name = await known.text();
  if (!(await caches.has(name))) return null;
  return (await caches.open(name)).match(url);
}

/* The first 16 hex digits of SHA-256, as web/tools/build-sw.mjs hashes. */
async function contentHash(res) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await res.clone().arrayBuffer()));
  return [...d.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/* The copy the page itself just downloaded (a first visit fetches the
 * model and the build moments before the worker installs), if the HTTP
 * cache has it with the right content: not downloaded twice. */
async function fromHttpCache(url, hash) {
  try {
    const res = await fetch(url, { cache: 'only-if-cached', mode: 'same-origin' });
    return res.ok && (await contentHash(res)) === hash ? res : null;
  } catch {
    return null;
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const hashes = await caches.open(HASHES);
    await Promise.all(entries.map(async ({ url, hash }) => {
      let res = await oldCopy(url, hash) ?? await fromHttpCache(url, hash);
      if (!res) {
        res = await fetch(url, { cache: 'reload' });
        if (!res.ok) throw new Error(`precache ${url}: HTTP ${res.status}`);
      }
      await cache.put(url, res);
      await hashes.put(`${url}#${hash}`, new Response(CACHE));
    }));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE)
      .map((n) => caches.delete(n)));
    /* forget hashes that point at deleted caches */
    const hashes = await caches.open(HASHES);
    for (const req of await hashes.keys()) {
      const res = await hashes.match(req);
      if ((await res.text()) !== CACHE) await hashes.delete(req);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
  if (event.data?.type === 'VERSION') event.ports[0]?.postMessage(VERSION);
});

async function fromPrecache(url) {
  const cache = await caches.open(CACHE);
  return (await cache.match(url)) ?? fetch(url);
}

/* A build this device did not precache: cached in the version's cache
 * the first time the page fetches it. */
async function cacheFirst(url) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(url);
  if (hit) return hit;
  const res = await fetch(url);
  if (res.ok) await cache.put(url, res.clone());
  return res;
}

async function staleWhileRevalidate(request) {
  const cache = await caches.open(MODELS);
  const hit = await cache.match(request);
  const fresh = fetch(request).then((res) => {
    if (res.ok) cache.put(request, res.clone());
    return res;
  });
  if (hit) {
    fresh.catch(() => {});
    return hit;
  }
  return fresh;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.href.startsWith(self.registration.scope) &&
      (url.pathname.endsWith('/') || url.pathname.endsWith('/index.html'))) {
    event.respondWith(fromPrecache(INDEX));
    return;
  }
  const bare = url.origin + url.pathname;
  if (urls.has(bare)) {
    event.respondWith(fromPrecache(bare));
    return;
  }
  if (buildUrls.has(bare)) {
    event.respondWith(cacheFirst(bare));
    return;
  }
  if (/\/models\/[^/]+\.safetensors$/.test(url.pathname))
    event.respondWith(staleWhileRevalidate(req));
});
