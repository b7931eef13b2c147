/* loss.c: softmax cross-entropy with sparse labels, computed stably
 * (log-sum-exp with the row maximum subtracted), and the CTC loss of a
 * sequence (forward-backward in log space). */
#include <math.h>
#include <stdlib.h>

#include "digits.h"

int dg_softmax_xent(const float *logits, const uint8_t *labels, int n, int k,
                    float *probs, float *dlogits, float *loss) {
  if (!logits || !labels || n < 1 || k < 1)
    return dg_error(DG_ERR_ARG, "loss: bad argument");
  double total = 0;
  float inv_n = 1.0f / (float)n;
  for (int r = 0; r < n; r++) {
    const float *x = logits + (size_t)r * k;
    if (labels[r] >= k)
      return dg_error(DG_ERR_ARG, "loss: label %d out of range 0..%d",
                      labels[r], k - 1);
    float mx = x[0];
    for (int j = 1; j < k; j++) mx = x[j] > mx ? x[j] : mx;
    double s = 0;
    for (int j = 0; j < k; j++) s += exp((double)x[j] - mx);
    double lse = mx + log(s);
    total += lse - x[labels[r]];
    for (int j = 0; j < k; j++) {
      float p = (float)exp((double)x[j] - lse);
      if (probs) probs[(size_t)r * k + j] = p;
      if (dlogits)
        dlogits[(size_t)r * k + j] = (p - (j == labels[r] ? 1.0f : 0.0f)) * inv_n;
    }
  }
  if (loss) *loss = (float)(total / n);
  return DG_OK;
}

static double lse2(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* The extended sequence blank, l1, blank, l2, ..., blank: state s holds
 * label s/2 when odd. A state may be entered from itself, the one before,
 * and (a label unlike the label two before) the one two before. */
int dg_ctc_loss(const float *logits, int T, int k, int blank, const uint8_t *labels,
                int L, float *dlogits, float *loss) {
  if (!logits || !loss || T < 1 || k < 2 || blank < 0 || blank >= k || L < 0 ||
      (L && !labels))
    return dg_error(DG_ERR_ARG, "ctc: bad argument");
  int need = L;
  for (int i = 0; i < L; i++) {
    if (labels[i] >= k || labels[i] == blank)
      return dg_error(DG_ERR_ARG, "ctc: label %d of %d is blank or not below %d",
                      labels[i], i, k);
    need += i && labels[i] == labels[i - 1];
  }
  if (need > T)
    return dg_error(DG_ERR_ARG, "ctc: %d rows cannot read %d labels", T, L);
  const int S = 2 * L + 1;
  double *lp = malloc(sizeof(double) * (size_t)T * k);
  double *a = malloc(sizeof(double) * (size_t)T * S), *b = malloc(sizeof(double) * (size_t)T * S);
  if (!lp || !a || !b) {
    free(lp), free(a), free(b);
    return dg_error(DG_ERR_NOMEM, "ctc: out of memory");
  }
  for (int t = 0; t < T; t++) {  /* log softmax */
    const float *x = logits + (size_t)t * k;
    double mx = x[0], sum = 0;
    for (int j = 1; j < k; j++) mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < k; j++) sum += exp(x[j] - mx);
    for (int j = 0; j < k; j++) lp[(size_t)t * k + j] = x[j] - mx - log(sum);
  }
#define LAB(s) ((s) & 1 ? labels[(s) / 2] : blank)
#define SKIP(s) ((s) & 1 && (s) >= 3 && labels[(s) / 2] != labels[(s) / 2 - 1])
  for (int t = 0; t < T; t++)
    for (int s = 0; s < S; s++) {
      double v = -INFINITY;
      if (t == 0) v = s < 2 ? 0 : -INFINITY;
      else {
        v = a[(size_t)(t - 1) * S + s];
        if (s >= 1) v = lse2(v, a[(size_t)(t - 1) * S + s - 1]);
        if (SKIP(s)) v = lse2(v, a[(size_t)(t - 1) * S + s - 2]);
      }
      a[(size_t)t * S + s] = v == -INFINITY ? v : v + lp[(size_t)t * k + LAB(s)];
    }
  for (int t = T - 1; t >= 0; t--)
    for (int s = S - 1; s >= 0; s--) {
      double v = -INFINITY;
      if (t == T - 1) v = s >= S - 2 ? 0 : -INFINITY;
      else {
        v = b[(size_t)(t + 1) * S + s];
        if (s + 1 < S) v = lse2(v, b[(size_t)(t + 1) * S + s + 1]);
        if (s + 2 < S && SKIP(s + 2)) v = lse2(v, b[(size_t)(t + 1) * S + s + 2]);
      }
      b[(size_t)t * S + s] = v == -INFINITY ? v : v + lp[(size_t)t * k + LAB(s)];
    }
  double logp = a[(size_t)(T - 1) * S + S - 1];
  if (S >= 2) logp = lse2(logp, a[(size_t)(T - 1) * S + S - 2]);
  *loss = (float)-logp;
  if (dlogits && isfinite(logp))
    for (int t = 0; t < T; t++) {
      float *d = dlogits + (size_t)t * k;
      for (int j = 0; j < k; j++) d[j] = (float)exp(lp[(size_t)t * k + j]);
      for (int s = 0; s < S; s++) {  /* alpha and beta both hold row t */
        const double g = a[(size_t)t * S + s] + b[(size_t)t * S + s] -
                         lp[(size_t)t * k + LAB(s)] - logp;
        if (g > -60) d[LAB(s)] -= (float)exp(g);
      }
    }
#undef LAB
#undef SKIP
  free(lp), free(a), free(b);
  return isfinite(logp) ? DG_OK : dg_error(DG_ERR_NUMERIC, "ctc: the labels' probability is 0");
}
