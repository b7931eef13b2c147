/* loss.c: softmax cross-entropy with sparse labels, computed stably
 * (log-sum-exp with the row maximum subtracted). */
#include <math.h>

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
