/* tests/browser/lib/test-init.js: loaded first by the test copy of
 * index.html (page-kit.mjs), before any module. ?without=A,B takes features
 * away as an older engine lacks them: OffscreenCanvas, DecompressionStream,
 * relaxed (WebAssembly.validate refuses relaxed-SIMD modules), simd (it
 * refuses every SIMD module), indexedDB. window.__digits counts the
 * readings and keeps the last one's probabilities. */
(function () {
  'use strict';
  var without = (new URLSearchParams(location.search).get('without') || '').split(',');
  var gone = [];
  ['OffscreenCanvas', 'DecompressionStream'].forEach(function (name) {
    if (without.indexOf(name) >= 0 && name in window) {
      delete window[name];
      if (!(name in window)) gone.push(name);
    }
  });
  /* no IndexedDB (a private window in some engines, a blocked storage) */
  if (without.indexOf('indexedDB') >= 0) {
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    gone.push('indexedDB');
  }
  var noSimd = without.indexOf('simd') >= 0, noRelaxed = noSimd || without.indexOf('relaxed') >= 0;
  if (noRelaxed && typeof WebAssembly === 'object') {
    var validate = WebAssembly.validate;
    /* the prefix 0xfd starts every SIMD opcode; 0xfd 0x85 0x02 is relaxed_madd
     * (the probes in lib/digits.js are a few dozen bytes) */
    var has = function (u, seq) {
      for (var i = 0; i + seq.length <= u.length; i++) {
        var k = 0;
        while (k < seq.length && u[i + k] === seq[k]) k++;
        if (k === seq.length) return true;
      }
      return false;
    };
    WebAssembly.validate = function (bytes) {
      var u = bytes instanceof ArrayBuffer ? new Uint8Array(bytes)
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (noSimd && has(u, [0xfd])) return false;
      if (has(u, [0xfd, 0x85, 0x02])) return false;
      return validate.call(WebAssembly, bytes);
    };
    gone.push(noSimd ? 'simd' : 'relaxed');
  }
  /* ups: pointer-ups seen; atUp: the reading count at the last one */
  window.__digits = { gone: gone, readings: 0, last: null, ups: 0, atUp: 0 };
  addEventListener('pointerup', function () {
    window.__digits.ups++;
    window.__digits.atUp = window.__digits.readings;
  }, true);
  document.addEventListener('digits:reading', function (e) {
    window.__digits.readings++;
    var p = e.detail && e.detail.probs;
    window.__digits.last = p ? Array.prototype.slice.call(p) : null;
  });
})();
