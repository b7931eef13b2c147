/* metrics.c: classification metrics accumulated over batches: accuracy,
 * mean cross-entropy of the predicted probabilities, a confusion matrix
 * ([true][predicted]) and per-class precision, recall and F1 from it. */
#include <math.h>
#include <string.h>

#include "digits.h"

/* Probabilities are clamped here before the log so that a confident wrong
 * answer costs a large but finite loss (-log(1e-12) ~ 27.6). */
#define DG_METRICS_PROB_FLOOR 1e-12

/* Accuracy and loss count every class; the confusion matrix the first
 * ten (a network of 11 outputs, the number reader's, is scored whole). */
void dg_metrics_reset(dg_metrics *m, int k) {
  if (!m) return;
  memset(m, 0, sizeof *m);
  if (k < 1) k = 1;
  m->stride = k;
  m->k = k > 10 ? 10 : k;
}

void dg_metrics_add(dg_metrics *m, const float *probs, const uint8_t *labels,
                    int n) {
  if (!m || !probs || !labels || n <= 0) return;
  const int k = m->stride;
  for (int i = 0; i < n; i++) {
    const float *p = probs + (size_t)i * k; /* (k) */
    int y = labels[i];
    if (y >= k) continue; /* a label outside the classes cannot be scored */
    /* argmax; the first of equal maxima wins, NaN never wins */
    int best = 0;
    for (int c = 1; c < k; c++)
      if (p[c] > p[best] || (isnan(p[best]) && !isnan(p[c]))) best = c;
    double py = p[y];
    if (!(py > DG_METRICS_PROB_FLOOR)) py = isnan(py) ? py : DG_METRICS_PROB_FLOOR;
    m->loss_sum += -log(py);
    if (y < m->k && best < m->k) m->confusion[y][best]++;
    m->correct += best == y;
    m->n++;
  }
}

double dg_metrics_accuracy(const dg_metrics *m) {
  return m && m->n > 0 ? (double)m->correct / m->n : 0.0;
}

double dg_metrics_loss(const dg_metrics *m) {
  return m && m->n > 0 ? m->loss_sum / m->n : 0.0;
}

void dg_metrics_class(const dg_metrics *m, int c, double *precision,
                      double *recall, double *f1) {
  double p = 0, r = 0, f = 0;
  if (m && c >= 0 && c < m->k) {
    int64_t tp = m->confusion[c][c], predicted = 0, actual = 0;
    for (int j = 0; j < m->k; j++) {
      predicted += m->confusion[j][c]; /* column: predicted as c */
      actual += m->confusion[c][j];    /* row: truly c */
    }
    p = predicted > 0 ? (double)tp / predicted : 0.0;
    r = actual > 0 ? (double)tp / actual : 0.0;
    f = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  if (precision) *precision = p;
  if (recall) *recall = r;
  if (f1) *f1 = f;
}
