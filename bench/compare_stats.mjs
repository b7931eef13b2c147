/* compare_stats.mjs: the statistics of bench/compare, shared by the
 * interleaved WASM driver (compare_wasm.mjs, which samples a row again while
 * its verdict is open) and the report (compare_report.mjs).
 *
 * A row has paired samples of time per unit (lower is better) for the
 * baseline and the head, pair i taken back to back. The change is the
 * median of the paired ratios head / base - 1 (+5% = 5% slower), which a
 * drift of the machine during the run barely moves since both halves of a
 * pair see the same machine (the ratio of the two medians does not cancel
 * it: on a machine busy half the time it jumps between the two modes); its
 * interval comes from the order statistics of those ratios (about 95%, no
 * assumption on the distribution; min-max below 6 pairs). The verdict on the 3% limit is
 * open while that interval straddles it. */
export const LIMIT = 0.03;

export function median(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function pairStats(base, head) {
  const n = Math.min(base.length, head.length);
  const b = base.slice(0, n), h = head.slice(0, n);
  const q = b.map((x, i) => h[i] / x).sort((x, y) => x - y);
  /* ranks k and n-1-k of the sorted ratios bracket their median with
   * probability ~95% (normal approximation of the binomial) */
  const k = n >= 6 ? Math.max(0, Math.floor((n - 1.96 * Math.sqrt(n)) / 2)) : 0;
  const mb = median(b), mh = median(h);
  const lo = q[k] - 1, hi = q[n - 1 - k] - 1;
  return {
    n, base: { med: mb, min: Math.min(...b), max: Math.max(...b) },
    head: { med: mh, min: Math.min(...h), max: Math.max(...h) },
    change: median(q) - 1, lo, hi,
    /* the spread of each build's own samples, relative to its median */
    noise: Math.max((Math.max(...b) - Math.min(...b)) / mb, (Math.max(...h) - Math.min(...h)) / mh),
    open: lo <= LIMIT && hi >= LIMIT,
  };
}
