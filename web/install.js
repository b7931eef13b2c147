/* install.js: the parts of the page that make an install last (issue 22).
 *
 * - Install button (#install, in the header): shown only where the browser
 *   fires `beforeinstallprompt` (Chromium on Android and desktop); a click
 *   calls the event's prompt() and the button goes away, as it does once
 *   the app is installed (`appinstalled`).
 * - iOS (an iPhone, iPad or iPod user agent, or iPadOS asking for the
 *   desktop site) in a browser tab rather than from the home screen: a hint
 *   (#ios-hint) to use Share, then "Add to Home Screen" (iOS has no install
 *   event). Shown once: localStorage remembers it, and × dismisses it.
 * - Storage: store.js asks navigator.storage.persist() when a model or an
 *   example is saved and announces the answer (a "digits:saved" event);
 *   it is shown in a toast and in the "Saved on this device" panel, which
 *   lists the saved model and examples with their sizes and the site's
 *   total from navigator.storage.estimate().
 * - The manifest's shortcuts: ./#draw (the pad) and ./#train (opens the
 *   training panel once it is mounted).
 */
import * as store from './store.js';

const $ = (id) => document.getElementById(id);
const IOS_KEY = 'digits.ios-hint-shown';

/* ---- install button ---- */

let deferred = null;
addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault();  /* our button instead of the browser's mini-infobar */
  deferred = e;
  const b = $('install');
  if (b) b.hidden = false;
});
addEventListener('appinstalled', () => {
  deferred = null;
  const b = $('install');
  if (b) b.hidden = true;
});

async function install() {
  const e = deferred;
  deferred = null;
  $('install').hidden = true;
  if (!e) return;
  try {
    await e.prompt();
  } catch (err) {
    console.info(`install prompt: ${err.message}`);
  }
}

/* ---- iOS: Add to Home Screen ---- */

/* Is this iOS / iPadOS, in a tab (not started from the home screen)? */
export function iosTab(nav = navigator, standalone = matchMedia('(display-mode: standalone)').matches) {
  const ua = String(nav.userAgent ?? '');
  const ios = /\b(iPhone|iPad|iPod)\b/.test(ua) ||
    (/\bMacintosh\b/.test(ua) && nav.maxTouchPoints > 1);  /* iPadOS, desktop site */
  return ios && nav.standalone !== true && !standalone;
}

function iosHint() {
  const hint = $('ios-hint');
  if (!hint || !iosTab()) return;
  let seen = null;
  try {
    seen = localStorage.getItem(IOS_KEY);
    localStorage.setItem(IOS_KEY, new Date().toISOString());
  } catch { /* storage blocked: show it, it cannot be remembered */ }
  if (seen) return;
  hint.hidden = false;
  $('ios-hint-close').addEventListener('click', () => { hint.hidden = true; });
}

/* ---- persistent storage and the saved-work list ---- */

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const PERSIST_TEXT = {
  granted: 'Storage is persistent: the browser will not clear saved work to free space.',
  'not granted': 'Storage is not persistent: the browser may clear saved work when space runs low ' +
                 '(installing the app usually makes it persistent).',
  unsupported: 'This browser cannot make storage persistent.',
};

function toast(text) {
  $('toast-text').textContent = text;
  $('toast-action').hidden = true;
  $('toast').hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { if ($('toast-action').hidden) $('toast').hidden = true; }, 6000);
}

const PANEL = `
<details class="panel saved" id="saved-panel" data-testid="saved-panel">
  <summary>Saved on this device</summary>
  <ul class="saved-list" id="saved-list" data-testid="saved-list"></ul>
  <p class="note" id="saved-total" data-testid="storage-total"></p>
  <p class="note" id="persist-status" data-testid="persist-status" role="status"></p>
</details>`;

function row(list, what, size, testid) {
  const li = document.createElement('li');
  li.dataset.testid = testid;
  li.dataset.bytes = String(size);
  const name = document.createElement('span');
  name.textContent = what;
  const s = document.createElement('span');
  s.className = 'size';
  s.textContent = kb(size);
  li.append(name, s);
  list.append(li);
}

/* Fill the panel: each saved thing and its size, then the site's total. */
async function refresh() {
  const list = $('saved-list');
  if (!list) return;
  let saved;
  try {
    saved = await store.savedSizes();
  } catch (e) {
    list.textContent = `IndexedDB: ${e.message}`;
    return;
  }
  list.replaceChildren();
  if (saved.model)
    row(list, `Trained model: ${saved.model.name || saved.model.arch || 'model'}`, saved.model.bytes,
        'saved-model');
  if (saved.examples.count)
    row(list, `${saved.examples.count} personal example${saved.examples.count === 1 ? '' : 's'}`,
        saved.examples.bytes, 'saved-examples');
  if (!list.children.length) list.textContent = 'Nothing saved yet.';
  const est = await store.estimate();
  $('saved-total').textContent = est
    ? `This site uses ${kb(est.usage)} in all (cache and databases) of ${(est.quota / 1048576).toFixed(0)} MB ` +
      'the browser allows.'
    : 'This browser does not say how much storage the site uses.';
  const p = await store.persisted();
  $('persist-status').dataset.persist = p;
  $('persist-status').textContent = PERSIST_TEXT[p];
}

/* The panel, appended to host (the page's "extra" area). */
export function mountSaved(host) {
  host.insertAdjacentHTML('beforeend', PANEL);
  $('saved-panel').addEventListener('toggle', () => { if ($('saved-panel').open) refresh(); });
  document.addEventListener('digits:saved', (e) => {
    const { persist } = e.detail;
    toast(`Saved. ${PERSIST_TEXT[persist]}`);
    document.documentElement.dataset.persist = persist;
    refresh();
  });
  refresh();
  openShortcut();
}

/* ./#train (a manifest shortcut) opens the training panel. */
function openShortcut() {
  if (location.hash !== '#train') return;
  const panel = $('train-panel');
  if (!panel) return;
  panel.open = true;
  panel.scrollIntoView({ block: 'start' });
}

/* a module runs once the document is parsed: the elements are there */
addEventListener('hashchange', openShortcut);
$('install')?.addEventListener('click', install);
iosHint();
