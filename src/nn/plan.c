/* plan.c: the execution plan. A network is compiled once per mode into a
 * list of steps (nn.h): which operation runs which layers, what it fuses in
 * its epilogue, which kernel it takes, with what settings. Every decision
 * that depends on a layer's neighbours is made here, when the plan is
 * compiled, and nowhere else; the operations themselves (layer_*.c) only
 * run what their step says.
 *
 * The fusions, by mode:
 * - every mode: a ReLU after a dense, conv or batch norm layer runs in that
 *   layer's epilogue (no pass over memory, no buffers of its own); in
 *   training its gradient mask is applied in place by the same step's
 *   backward, or by a max pool right after it, which masks as it routes.
 * - training: batch norm, ReLU and max pool run as one pass each way.
 * - batched inference: a batch norm after a dense or conv layer is folded
 *   into that layer's weights per call (when that pays, see layer_*.c).
 * - small batches (up to DG_PLAN_ONE_MAX_N images): every dense and conv
 *   layer reads weights prepared once with the batch norm after it folded
 *   in: a conv by Winograd's path where the settings allow, else image by
 *   image (dg_infer_conv, with a 2 x 2 max pool after it in its epilogue)
 *   where that kernel is faster on this target, else the batched kernel. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels_infer.h"
#include "nn/nn.h"

static int kind_at(const dg_net *net, int i) {
  return i < net->nlayers ? (int)net->layers[i].kind : -1;
}

static const dg_op *op_of(dg_layer_kind kind) {
  return dg_layer_types[kind]->op;
}

static int takes_relu(dg_layer_kind kind) {
  return dg_layer_types[kind]->relu_epilogue;
}

/* Small batches: the dense or conv layer at s->first (its batch norm, ReLU
 * and pool already attached) gets its kernel. */
static void choose_one(dg_net *net, dg_step *s, const dg_exec *ex) {
  dg_layer *l = s->l;
  if (l->kind == DG_L_DENSE) {
    s->op = &dg_op_dense_one;
    return;
  }
  s->wino = dg_wino_applies(ex, l->ic, l->filters, l->k);
  s->direct = !s->wino && dg_infer_conv_preferred(l->ic, l->filters, l->k);
  s->op = s->wino ? &dg_op_conv_one_wino
          : s->direct ? &dg_op_conv_one : &dg_op_conv_one_folded;
  if (s->direct && kind_at(net, s->last + 1) == DG_L_MAXPOOL &&
      net->layers[s->last + 1].pool == 2)
    s->pool = &net->layers[++s->last];
}

/* The step starting at layer i; returns the layer after it. */
static int compile_step(dg_net *net, dg_plan_mode mode, dg_step *s, int i,
                        const dg_exec *ex) {
  dg_layer *l = &net->layers[i];
  memset(s, 0, sizeof *s);
  s->first = s->last = i, s->l = l, s->op = op_of(l->kind);
  int dense_or_conv = l->kind == DG_L_DENSE || l->kind == DG_L_CONV;
  if (mode != DG_PLAN_TRAIN && dense_or_conv &&
      kind_at(net, i + 1) == DG_L_BATCHNORM) {
    s->bn = &net->layers[++s->last];
    s->op = l->kind == DG_L_DENSE ? &dg_op_dense_bn : &dg_op_conv_bn;
  }
  if (takes_relu(net->layers[s->last].kind) &&
      kind_at(net, s->last + 1) == DG_L_RELU) {
    s->relu = 1;
    s->last++;
  }
  if (mode == DG_PLAN_TRAIN && l->kind == DG_L_BATCHNORM && s->relu &&
      kind_at(net, s->last + 1) == DG_L_MAXPOOL) {
    s->op = &dg_op_bn_relu_maxpool;
    s->pool = &net->layers[++s->last];
  } else if (mode == DG_PLAN_TRAIN && s->relu && dense_or_conv &&
             kind_at(net, s->last + 1) == DG_L_MAXPOOL) {
    s->relu_masked = 1; /* the max pool's step masks (mask_relu) */
  }
  if (mode == DG_PLAN_ONE && dense_or_conv) choose_one(net, s, ex);
  return s->last + 1;
}

int dg_plan_compile(dg_net *net, dg_plan_mode mode, dg_plan *p) {
  memset(p, 0, sizeof *p);
  p->mode = mode;
  for (int i = 0; i < net->nlayers;) {
    dg_step *s = &p->steps[p->nsteps];
    i = compile_step(net, mode, s, i, &net->ex);
    s->ex = net->ex; /* forward calls: site; backward: site + 1 */
    s->ex.site = (int)mode * 2 * DG_MAX_LAYERS + 2 * p->nsteps;
    if (p->nsteps && p->steps[p->nsteps - 1].relu_masked)
      s->mask_relu = 1;
    p->nsteps++;
  }
  if (mode != DG_PLAN_ONE) return 1;
  size_t packed = 0, image = 1;
  for (int k = 0; k < p->nsteps; k++) {
    dg_step *s = &p->steps[k];
    if (!s->op->packed) continue;
    s->off = packed;
    packed += s->op->packed(net, s);
    if (s->direct) {
      size_t wk = dg_infer_conv_work(s->l->ih, s->l->iw, s->l->ic, s->l->pad);
      if (wk > image) image = wk;
    }
  }
  p->packed = dg_alloc_floats(packed ? packed : 1);
  p->image = dg_alloc_floats(image);
  if (!p->packed || !p->image) {
    dg_plan_release(p);
    return 0;
  }
  return 1;
}

void dg_plan_release(dg_plan *p) {
  if (!p) return;
  free(p->packed), free(p->image);
  p->packed = p->image = NULL;
}

/* ---- running a plan ----------------------------------------------------- */

void dg_plan_forward(dg_net *net, dg_plan *p, const float *x, int n,
                     dg_rng *rng) {
  const float *in = x;
  for (int k = 0; k < p->nsteps; k++) {
    dg_step *s = &p->steps[k];
    s->op->forward(net, s, in, n, rng);
    in = net->layers[s->last].out;
  }
}

/* From the gradient in layers[top].dout (or the input gradient, top < 0)
 * back to the input: every step that ends at or before layer top. */
void dg_plan_backward(dg_net *net, dg_plan *p, int top) {
  for (int k = p->nsteps - 1; k >= 0; k--) {
    dg_step *s = &p->steps[k];
    if (s->last > top) continue;
    int i = s->first;
    const float *in = i ? net->layers[i - 1].out : net->input;
    float *din = i ? net->layers[i - 1].dout : net->dinput; /* may be NULL */
    dg_step back = *s;
    back.ex.site++;
    s->op->backward(net, &back, in, din, net->n);
  }
}

/* Small batches: the packed weights made from the current ones, if stale. */
void dg_plan_pack(dg_net *net, dg_plan *p) {
  if (p->packed_ok) return;
  for (int k = 0; k < p->nsteps; k++) {
    dg_step *s = &p->steps[k];
    if (s->op->pack) s->op->pack(net, s, p->packed + s->off);
  }
  p->packed_ok = 1;
}

/* Floats of net->work and net->fold the plan's steps need for a batch of
 * n, raised into *work and *fold. */
void dg_plan_needs(const dg_net *net, const dg_plan *p, int n, size_t *work,
                   size_t *fold) {
  for (int k = 0; k < p->nsteps; k++) {
    const dg_step *s = &p->steps[k];
    size_t w = s->op->work ? s->op->work(net, s, n) : 0;
    if (w > *work) *work = w;
    if (s->bn) {
      size_t f = net->tensors[s->l->t0].size + net->tensors[s->l->t0 + 1].size;
      if (f > *fold) *fold = f;
    }
  }
}
