/* step.c: one training step, the only place the sequence is written:
 * (augmentation) -> forward (dropout on) -> softmax cross-entropy ->
 * backward -> optimizer update (weight decay inside the optimizer).
 * The epoch loop (fit.c), the WebAssembly trainer (wasm/api.c), the bench
 * and the tests all call dg_train_step. */
#include <math.h>
#include <string.h>

#include "digits.h"

static int argmax(const float *p, int k) {
  int b = 0;
  for (int j = 1; j < k; j++)
    if (p[j] > p[b]) b = j;
  return b;
}

int dg_train_step(dg_net *net, dg_optim *opt, const float *x,
                  const uint8_t *labels, int n, const dg_step_aug *aug,
                  dg_rng *rng, dg_step_result *r) {
  if (!net || !opt || !x || !labels || !rng || n < 1)
    return dg_error(DG_ERR_ARG, "train: bad argument");
  int k = dg_net_output_size(net), in = dg_net_input_size(net);
  for (int i = 0; i < n; i++)
    if (labels[i] >= k)
      return dg_error(DG_ERR_ARG, "train: label %d of sample %d is not below %d",
                      labels[i], i, k);
  const float *xb = x;
  if (aug) {
    if (!aug->buf || aug->h * aug->w != in)
      return dg_error(DG_ERR_ARG, "augment: needs %d-value images and a buffer",
                      in);
    /* every image of the batch before the forward: the random numbers are
     * drawn in one order, whoever calls */
    for (int i = 0; i < n; i++)
      dg_augment(x + (size_t)i * in, aug->buf + (size_t)i * in, aug->h, aug->w,
                 aug->opts, rng);
    xb = aug->buf;
  }
  float loss = NAN;
  int st = dg_net_forward(net, xb, n, 1, rng);
  if (!st) st = dg_net_backward(net, labels, &loss);
  if (r) r->loss = loss, r->correct = 0;
  if (st) return st; /* DG_ERR_NUMERIC: the weights are not updated */
  if (r) {
    const float *out = dg_net_output(net);
    for (int i = 0; i < n; i++)
      r->correct += argmax(out + (size_t)i * k, k) == labels[i];
  }
  dg_optim_step(opt, net);
  return DG_OK;
}
