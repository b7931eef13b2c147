/* test_metrics.c: metrics against hand-computed confusion matrices. */
#include <math.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

/* One-hot-ish probability row for class c out of k (0.7 on c). */
static void row(float *p, int k, int c) {
  for (int j = 0; j < k; j++) p[j] = 0.3f / (k - 1);
  p[c] = 0.7f;
}

static void test_reset(void) {
  dg_metrics m;
  memset(&m, 0xab, sizeof m);
  dg_metrics_reset(&m, 10);
  CHECK(m.k == 10 && m.n == 0 && m.correct == 0 && m.loss_sum == 0);
  for (int i = 0; i < 10; i++)
    for (int j = 0; j < 10; j++) CHECK(m.confusion[i][j] == 0);
  CHECK(dg_metrics_accuracy(&m) == 0);
  CHECK(dg_metrics_loss(&m) == 0);
  double p, r, f;
  dg_metrics_class(&m, 3, &p, &r, &f);
  CHECK(p == 0 && r == 0 && f == 0);
  dg_metrics_reset(&m, 0);
  CHECK(m.k == 1);
  dg_metrics_reset(&m, 99);
  CHECK(m.k == 10);
}

/* 3 classes; true/predicted pairs chosen so that the confusion matrix is
 *            pred 0  1  2
 *   true 0      [3, 1, 0]
 *   true 1      [0, 2, 2]
 *   true 2      [1, 0, 1]
 * class 0: P = 3/4, R = 3/4; class 1: P = 2/3, R = 1/2; class 2: P = 1/3,
 * R = 1/2. Accuracy 6/10. */
static void test_known_matrix(void) {
  static const int pairs[10][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 1}, {1, 1},
                                   {1, 1}, {1, 2}, {1, 2}, {2, 0}, {2, 2}};
  float probs[10 * 3];
  uint8_t labels[10];
  for (int i = 0; i < 10; i++) {
    row(probs + i * 3, 3, pairs[i][1]);
    labels[i] = (uint8_t)pairs[i][0];
  }
  dg_metrics m;
  dg_metrics_reset(&m, 3);
  /* in two batches, to check accumulation */
  dg_metrics_add(&m, probs, labels, 4);
  dg_metrics_add(&m, probs + 4 * 3, labels + 4, 6);
  CHECK(m.n == 10 && m.correct == 6);
  static const int64_t want[3][3] = {{3, 1, 0}, {0, 2, 2}, {1, 0, 1}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      CHECK_MSG(m.confusion[i][j] == want[i][j], "confusion[%d][%d] = %lld",
                i, j, (long long)m.confusion[i][j]);
  CHECK_NEAR(dg_metrics_accuracy(&m), 0.6, 1e-12);
  /* loss: 6 rows at p = 0.7, 4 at p = 0.15 */
  double want_loss = (6 * -log(0.7) + 4 * -log(0.15)) / 10;
  CHECK_NEAR(dg_metrics_loss(&m), want_loss, 1e-6);
  double p, r, f;
  dg_metrics_class(&m, 0, &p, &r, &f);
  CHECK_NEAR(p, 0.75, 1e-12);
  CHECK_NEAR(r, 0.75, 1e-12);
  CHECK_NEAR(f, 0.75, 1e-12);
  dg_metrics_class(&m, 1, &p, &r, &f);
  CHECK_NEAR(p, 2.0 / 3, 1e-12);
  CHECK_NEAR(r, 0.5, 1e-12);
  CHECK_NEAR(f, 2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), 1e-12);
  dg_metrics_class(&m, 2, &p, &r, &f);
  CHECK_NEAR(p, 1.0 / 3, 1e-12);
  CHECK_NEAR(r, 0.5, 1e-12);
  CHECK_NEAR(f, 0.4, 1e-12);
  /* out-of-range class: zeros, and NULL outputs are allowed */
  dg_metrics_class(&m, 5, &p, &r, &f);
  CHECK(p == 0 && r == 0 && f == 0);
  dg_metrics_class(&m, 0, NULL, NULL, &f);
  CHECK_NEAR(f, 0.75, 1e-12);
}

/* A class that is never predicted has precision 0 (undefined -> 0), and a
 * class never present has recall 0; F1 is then 0, not NaN. */
static void test_undefined_classes(void) {
  float probs[4 * 10];
  uint8_t labels[4] = {1, 1, 2, 2};
  int preds[4] = {1, 1, 1, 1};
  for (int i = 0; i < 4; i++) row(probs + i * 10, 10, preds[i]);
  dg_metrics m;
  dg_metrics_reset(&m, 10);
  dg_metrics_add(&m, probs, labels, 4);
  double p, r, f;
  dg_metrics_class(&m, 2, &p, &r, &f);
  CHECK(p == 0 && r == 0 && f == 0);
  dg_metrics_class(&m, 1, &p, &r, &f);
  CHECK_NEAR(p, 0.5, 1e-12);
  CHECK_NEAR(r, 1.0, 1e-12);
  CHECK_NEAR(f, 2 * 0.5 / 1.5, 1e-12);
  dg_metrics_class(&m, 7, &p, &r, &f);
  CHECK(p == 0 && r == 0 && f == 0 && !isnan(f));
  CHECK_NEAR(dg_metrics_accuracy(&m), 0.5, 1e-12);
}

/* Perfectly confident wrong answers give a large finite loss; ties pick
 * the first class; labels outside the classes are skipped. */
static void test_edges(void) {
  float probs[3 * 10] = {0};
  probs[0 * 10 + 3] = 1.0f;  /* predicts 3, label 5: p = 0 */
  /* row 1: all equal -> argmax 0 */
  for (int j = 0; j < 10; j++) probs[1 * 10 + j] = 0.1f;
  probs[2 * 10 + 0] = 1.0f;  /* label 12: skipped */
  uint8_t labels[3] = {5, 0, 12};
  dg_metrics m;
  dg_metrics_reset(&m, 10);
  dg_metrics_add(&m, probs, labels, 3);
  CHECK(m.n == 2 && m.correct == 1);
  CHECK(m.confusion[5][3] == 1 && m.confusion[0][0] == 1);
  CHECK(isfinite(dg_metrics_loss(&m)));
  CHECK_NEAR(m.loss_sum, -log(1e-12) + -log(0.1), 1e-5);
  dg_metrics_add(&m, NULL, labels, 3);  /* ignored, no crash */
  dg_metrics_add(&m, probs, labels, 0);
  CHECK(m.n == 2);
}

/* 11 classes (the number reader's window network): each prediction's
 * 11 probabilities read as one row, class 10 scored, the confusion
 * matrix kept to the first ten. */
static void test_eleven_classes(void) {
  enum { N = 4, K = 11 };
  float probs[N * K];
  const uint8_t labels[N] = {10, 10, 3, 7}, pred[N] = {10, 2, 3, 10};
  for (int i = 0; i < N; i++) row(probs + i * K, K, pred[i]);
  dg_metrics m;
  dg_metrics_reset(&m, K);
  CHECK(m.k == 10 && m.stride == K);
  dg_metrics_add(&m, probs, labels, N);
  CHECK(m.n == 4 && m.correct == 2);
  CHECK_NEAR(m.loss_sum, -2 * log(0.7) - 2 * log(0.03), 1e-5);
  CHECK(m.confusion[3][3] == 1);
  int64_t total = 0;
  for (int i = 0; i < 10; i++)
    for (int j = 0; j < 10; j++) total += m.confusion[i][j];
  CHECK(total == 1);  /* 10 -> 10, 10 -> 2 and 7 -> 10 are outside it */
}

int main(void) {
  RUN(test_reset);
  RUN(test_known_matrix);
  RUN(test_undefined_classes);
  RUN(test_edges);
  RUN(test_eleven_classes);
  return dg_test_finish();
}
