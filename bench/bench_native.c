/* bench_native.c: the native half of bench/run, built by it against the
 * library (libdigitscore.a). One measurement per invocation, one JSON line
 * on stdout:
 *
 *   bench_native peak REPS
 *       single-core FMA throughput of a register-only loop, GFLOP/s
 *   bench_native predict ARCH BATCH net|canvas REPS
 *       latency of dg_net_predict on BATCH 28x28 inputs (net), or of
 *       dg_preprocess of BATCH 280x280 RGBA canvases + dg_net_predict
 *       (canvas); ARCH may also be a model file (.safetensors)
 *   bench_native train ARCH BATCH THREADS REPS
 *       images/s of forward + backward + Adam step on random data
 *   bench_native photo OUT.jpg
 *       write the procedural 12-megapixel photo (4000x3000 JPEG: a "0" in
 *       dark ink on ruled paper lit from one side, vignetting, sensor
 *       noise), for when tests/photos' photo_gen is not built
 *   bench_native preprocess FILE REPS [SOURCE]
 *       latency of dg_preprocess_ex on FILE's decoded pixels (RGB as a
 *       JPEG decodes, then the same pixels as RGBA, as a canvas gives
 *       them): one JSON line each, with what preprocessing found; SOURCE
 *       names where FILE came from in the results
 *   bench_native kernels BATCH REPS
 *       one thread: GFLOP/s of each product of a training step at batch
 *       BATCH, one JSON line per kernel and shape: the cnn's four
 *       convolutions (forward, weight gradient, input gradient; the first
 *       has none) and the mlp's first dense layer (forward, weight and
 *       input gradients)
 *
 * Every figure is REPS samples (each long enough to time), reported as
 * median, min and max. Times are wall clock (CLOCK_MONOTONIC); the median of
 * the thread's CPU time is also given for single-thread runs, which stays
 * meaningful on a loaded machine (train: images per CPU-second).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "digits.h"
#include "kernels/kernels.h"

/* the kernel benches' settings: one thread, the target's Winograd default */
static dg_exec bx = {1, 0, NULL, 0};

static double now_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  double med, min, max;
} stats;

static stats summarize(double *v, int n) {
  qsort(v, n, sizeof *v, cmp_d);
  stats s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0],
             v[n - 1]};
  return s;
}

/* ---- peak ------------------------------------------------------------------ */

/* Independent FMA chains, enough to cover latency x pipes (4 x 2 on Zen 4;
 * 12 chains leave slack), nothing but registers. */
static double peak_once(long iters) {
#if defined(__AVX512F__)
#define PV __m512
#define PW 16
#define PSET _mm512_set1_ps
#define PFMA _mm512_fmadd_ps
#define PADD _mm512_add_ps
#define PSUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
#define PV __m256
#define PW 8
#define PSET _mm256_set1_ps
#define PFMA _mm256_fmadd_ps
#define PADD _mm256_add_ps
#define PSUM(v) (((float *)&(v))[0] + ((float *)&(v))[7])
#endif
#ifdef PV
  PV a0 = PSET(1.000f), a1 = PSET(1.001f), a2 = PSET(1.002f), a3 = PSET(1.003f);
  PV a4 = PSET(1.004f), a5 = PSET(1.005f), a6 = PSET(1.006f), a7 = PSET(1.007f);
  PV a8 = PSET(1.008f), a9 = PSET(1.009f), a10 = PSET(1.01f), a11 = PSET(1.011f);
  PV m = PSET(0.9999999f), c = PSET(1e-7f);
  for (long it = 0; it < iters; it++) {
    a0 = PFMA(a0, m, c), a1 = PFMA(a1, m, c), a2 = PFMA(a2, m, c);
    a3 = PFMA(a3, m, c), a4 = PFMA(a4, m, c), a5 = PFMA(a5, m, c);
    a6 = PFMA(a6, m, c), a7 = PFMA(a7, m, c), a8 = PFMA(a8, m, c);
    a9 = PFMA(a9, m, c), a10 = PFMA(a10, m, c), a11 = PFMA(a11, m, c);
    __asm__ volatile("" : "+v"(m)); /* keep the loop from being folded */
  }
  PV a[12] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
  PV s = a[0];
  for (int i = 1; i < 12; i++) s = PADD(s, a[i]);
  volatile float sink = PSUM(s);
  (void)sink;
  return (double)iters * 12 * PW * 2;
#else
  float a[12];
  for (int i = 0; i < 12; i++) a[i] = 1.0f + i * 1e-3f;
  for (long it = 0; it < iters; it++)
    for (int i = 0; i < 12; i++) a[i] = fmaf(a[i], 0.9999999f, 1e-7f);
  volatile float sink = a[0];
  (void)sink;
  return (double)iters * 12 * 2;
#endif
}

static int cmd_peak(int reps) {
  double *g = malloc(sizeof(double) * reps);
  peak_once(1 << 20);
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(CLOCK_MONOTONIC);
    double flops = peak_once(20L << 20);
    g[r] = flops / (now_s(CLOCK_MONOTONIC) - t0) * 1e-9;
  }
  stats s = summarize(g, reps);
  printf("{\"kind\":\"peak\",\"target\":\"native\",\"gflops\":%.2f,"
         "\"min\":%.2f,\"max\":%.2f}\n",
         s.med, s.min, s.max);
  free(g);
  return 0;
}

/* ---- shared -------------------------------------------------------------------- */

static int make_net(dg_net **net, const char *arch) {
  size_t n = strlen(arch);
  if (n > 12 && !strcmp(arch + n - 12, ".safetensors"))
    return dg_model_load(net, arch, NULL, NULL);
  return dg_net_new(net, arch, 1);
}

/* Forward multiply-adds x 2 per image: dense and conv layers. */
static double net_flops(const dg_net *net) {
  double f = 0;
  for (int i = 0; i < dg_net_layer_count(net); i++) {
    dg_layer_info li;
    dg_net_layer_info(net, i, &li);
    if (!strcmp(li.kind, "Dense") || !strcmp(li.kind, "Conv2D"))
      f += 2.0 * (double)(li.params - li.out_c) * li.out_h * li.out_w;
  }
  return f;
}

/* The drawing bench/run uses everywhere (bench/wasm_bench.mjs draws the
 * same): a 280x280 white canvas with a black ring, a "0". */
static void draw_canvas(uint8_t *px) {
  for (int y = 0; y < 280; y++)
    for (int x = 0; x < 280; x++) {
      double d = sqrt((x - 140.0) * (x - 140.0) + (y - 135.0) * (y - 135.0));
      int ink = fabs(d - 80.0) < 14.0;
      uint8_t *p = px + ((size_t)y * 280 + x) * 4;
      p[0] = p[1] = p[2] = ink ? 0 : 255;
      p[3] = 255;
    }
}

static uint64_t rs = 88172645463325252ull;
static float frand(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (float)(rs >> 40) / 16777216.0f;
}

/* ---- predict --------------------------------------------------------------------- */

static int cmd_predict(const char *arch, int batch, int canvas, int reps) {
  dg_net *net = NULL;
  if (make_net(&net, arch)) {
    fprintf(stderr, "bench_native: %s\n", dg_last_error());
    return 1;
  }
  dg_net_set_threads(net, 1);
  int in = dg_net_input_size(net), k = dg_net_output_size(net);
  float *x = malloc(sizeof(float) * in * batch);
  float *probs = malloc(sizeof(float) * k * batch);
  uint8_t *px = malloc(280 * 280 * 4);
  for (int i = 0; i < in * batch; i++) x[i] = frand();
  draw_canvas(px);
  /* calls per sample: enough for ~20 ms */
  int inner = 1;
  for (;;) {
    double t0 = now_s(CLOCK_MONOTONIC);
    for (int i = 0; i < inner; i++) {
      if (canvas)
        for (int b = 0; b < batch; b++)
          dg_preprocess(px, 280, 280, 4, x + (size_t)b * in);
      dg_net_predict(net, x, batch, probs);
    }
    if (now_s(CLOCK_MONOTONIC) - t0 > 0.02 || inner > 1 << 20) break;
    inner *= 2;
  }
  double *ms = malloc(sizeof(double) * reps), *cpu = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < inner; i++) {
      if (canvas)
        for (int b = 0; b < batch; b++)
          dg_preprocess(px, 280, 280, 4, x + (size_t)b * in);
      dg_net_predict(net, x, batch, probs);
    }
    cpu[r] = (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3 / inner;
    ms[r] = (now_s(CLOCK_MONOTONIC) - t0) * 1e3 / inner;
  }
  stats s = summarize(ms, reps), c = summarize(cpu, reps);
  printf("{\"kind\":\"predict\",\"target\":\"native\",\"arch\":\"%s\","
         "\"batch\":%d,\"mode\":\"%s\",\"ms\":%.5f,\"min\":%.5f,\"max\":%.5f,"
         "\"cpu_ms\":%.5f,\"mflop\":%.3f}\n",
         arch, batch, canvas ? "canvas" : "net", s.med, s.min, s.max, c.med,
         net_flops(net) * batch * 1e-6);
  free(ms), free(cpu), free(x), free(probs), free(px);
  dg_net_free(net);
  return 0;
}

/* ---- photo preprocessing ------------------------------------------------------ */

/* stb_image_write's JPEG writer, compiled into the library by image.c */
int stbi_write_jpg(char const *filename, int w, int h, int comp,
                   const void *data, int quality);

/* The procedural photo: 4000x3000 RGB, cream paper lit from the left and
 * darker towards the corners, faint blue ruled lines every 260 px, sensor
 * noise, and a "0" (an ellipse 660x960 px, stroke 55 px, anti-aliased) in
 * dark blue-black ink a little off centre. Deterministic. */
static int cmd_photo(const char *out) {
  const int W = 4000, H = 3000;
  uint8_t *px = malloc((size_t)W * H * 3); /* (H, W, 3) */
  if (!px) return 1;
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double u = (x - W / 2.0) / W, v = (y - H / 2.0) / H;
      double light = (0.72 + 0.28 * x / (double)W) * (1 - 0.45 * (u * u + v * v));
      double paper[3] = {238, 232, 218}, ink[3] = {38, 42, 70}, rule[3] = {165, 185, 220};
      /* ruled lines: 6 px, every 260 px */
      double r = (y % 260) < 6 ? 0.7 : 0;
      /* the "0": distance to the ellipse's outline, in stroke units */
      double ex = (x - 2100.0) / 330, ey = (y - 1450.0) / 480;
      double d = fabs(sqrt(ex * ex + ey * ey) - 1) * 390 - 27.5;
      double a = d < -1 ? 1 : d > 1 ? 0 : (1 - d) / 2;
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      double noise = ((double)(s >> 40) / 16777216.0 - 0.5) * 12;
      for (int k = 0; k < 3; k++) {
        double c = paper[k] * (1 - r) + rule[k] * r;
        c = c * (1 - a) + ink[k] * a;
        c = c * light + noise;
        px[((size_t)y * W + x) * 3 + k] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c + 0.5);
      }
    }
  int ok = stbi_write_jpg(out, W, H, 3, px, 85);
  free(px);
  if (!ok) fprintf(stderr, "bench_native: cannot write %s\n", out);
  return ok ? 0 : 1;
}

/* One JSON line: REPS single calls of dg_preprocess_ex after two warm-up
 * calls (each call is tens of ms: long enough to time alone). */
static void time_preprocess(const uint8_t *px, int w, int h, int c, int reps,
                            const char *file, const char *source) {
  float out[28 * 28];
  dg_preprocess_info info;
  int st = 0;
  for (int i = 0; i < 2; i++) st = dg_preprocess_ex(px, w, h, c, out, &info);
  double *ms = malloc(sizeof(double) * reps), *cpu = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    dg_preprocess_ex(px, w, h, c, out, &info);
    cpu[r] = (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
    ms[r] = (now_s(CLOCK_MONOTONIC) - t0) * 1e3;
  }
  stats m = summarize(ms, reps), cp = summarize(cpu, reps);
  printf("{\"kind\":\"preprocess\",\"target\":\"native\",\"channels\":%d,"
         "\"width\":%d,\"height\":%d,\"ms\":%.3f,\"min\":%.3f,\"max\":%.3f,"
         "\"cpu_ms\":%.3f,\"reps\":%d,\"status\":\"%s\",\"box\":[%d,%d,%d,%d],"
         "\"scale\":%d,\"photo\":%s,\"candidates\":%d,\"file\":\"%s\","
         "\"source\":\"%s\"}\n",
         c, w, h, m.med, m.min, m.max, cp.med, reps,
         st == DG_OK ? "ok" : dg_status_name(st), info.box[0], info.box[1],
         info.box[2], info.box[3], info.scale, info.photo ? "true" : "false",
         info.candidates, file, source);
  fflush(stdout);
  free(ms), free(cpu);
}

static int cmd_preprocess(const char *file, int reps, const char *source) {
  uint8_t *px = NULL;
  int w = 0, h = 0, c = 0;
  if (dg_image_load(file, &px, &w, &h, &c) != DG_OK) {
    fprintf(stderr, "bench_native: %s\n", dg_last_error());
    return 1;
  }
  time_preprocess(px, w, h, c, reps, file, source);
  /* the same picture as RGBA, the layout a canvas hands over */
  uint8_t *rgba = malloc((size_t)w * h * 4);
  if (!rgba) {
    free(px);
    return 1;
  }
  for (size_t i = 0; i < (size_t)w * h; i++) {
    for (int k = 0; k < 4; k++)
      rgba[i * 4 + k] = k == 3 ? 255 : px[i * c + (c >= 3 ? k : 0)];
  }
  free(px);
  time_preprocess(rgba, w, h, 4, reps, file, source);
  free(rgba);
  return 0;
}

/* ---- train ----------------------------------------------------------------------- */

static int cmd_train(const char *arch, int batch, int threads, int reps) {
  dg_net *net = NULL;
  if (make_net(&net, arch)) {
    fprintf(stderr, "bench_native: %s\n", dg_last_error());
    return 1;
  }
  dg_net_set_threads(net, threads);
  int in = dg_net_input_size(net), k = dg_net_output_size(net);
  const int pool = 8; /* batches of random data, cycled */
  float *x = malloc(sizeof(float) * in * batch * pool);
  uint8_t *y = malloc((size_t)batch * pool);
  for (size_t i = 0; i < (size_t)in * batch * pool; i++) x[i] = frand();
  for (int i = 0; i < batch * pool; i++) y[i] = (uint8_t)(frand() * k) % k;
  dg_optim opt;
  dg_optim_init(&opt, DG_OPT_ADAM, 1e-4f, net);
  dg_rng rng;
  dg_rng_seed(&rng, 7);
  int it = 0;
#define STEP()                                                              \
  do {                                                                      \
    int b = it++ % pool;                                                    \
    dg_train_step(net, &opt, x + (size_t)b * batch * in, y + (size_t)b * batch, \
                  batch, NULL, &rng, NULL);                                 \
  } while (0)
  int inner = 1;
  for (;;) {
    double t0 = now_s(CLOCK_MONOTONIC);
    for (int i = 0; i < inner; i++) STEP();
    if (now_s(CLOCK_MONOTONIC) - t0 > 0.1 || inner > 1 << 16) break;
    inner *= 2;
  }
  double *ips = malloc(sizeof(double) * reps), *cips = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < inner; i++) STEP();
    cips[r] = (double)batch * inner / (now_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    ips[r] = (double)batch * inner / (now_s(CLOCK_MONOTONIC) - t0);
  }
  stats s = summarize(ips, reps), c = summarize(cips, reps);
  printf("{\"kind\":\"train\",\"target\":\"native\",\"arch\":\"%s\","
         "\"batch\":%d,\"threads\":%d,\"ips\":%.1f,\"min\":%.1f,\"max\":%.1f",
         arch, batch, threads, s.med, s.min, s.max);
  /* images per second of this thread's CPU time: with one thread, the
   * rate a quiet machine would give (other threads' time is not counted) */
  if (threads == 1) printf(",\"cpu_ips\":%.1f", c.med);
  printf("}\n");
  free(ips), free(cips), free(x), free(y);
  dg_optim_free(&opt);
  dg_net_free(net);
  return 0;
}

/* ---- kernels ---------------------------------------------------------------------- */

/* One kernel call, timed in thread CPU time (a loaded machine steals wall
 * time, not this); calls per sample enough for ~20 ms. */
typedef struct {
  int kind; /* 0 conv fwd, 1 conv grad_w, 2 conv grad_in, 3..5 dense */
  int n, h, w, c, f, k;
  const float *x, *wt, *b, *dy;
  float *out, *work;
} kcall;

static void kcall_run(const kcall *q) {
  switch (q->kind) {
    case 0:
      dg_conv2d(&bx, q->x, q->n, q->h, q->w, q->c, q->wt, q->b, q->f, q->k, 0, 1,
                q->out, q->work);
      break;
    case 1:
      dg_conv2d_grad_w(&bx, q->x, q->dy, q->n, q->h, q->w, q->c, q->f, q->k, 0,
                       q->out, q->out + (size_t)q->k * q->k * q->c * q->f,
                       q->work);
      break;
    case 2:
      dg_conv2d_grad_in(&bx, q->dy, q->wt, q->n, q->h, q->w, q->c, q->f, q->k, 0,
                        q->out, q->work);
      break;
    /* dense, in (n, c) -> (n, f): as layers.c calls the GEMM */
    case 3:
      dg_gemm(&bx, 0, 0, q->n, q->f, q->c, 1.0f, q->x, q->c, q->wt, q->f, 0.0f,
              q->out, q->f);
      break;
    case 4:
      dg_gemm(&bx, 1, 0, q->c, q->f, q->n, 1.0f, q->x, q->c, q->dy, q->f, 0.0f,
              q->out, q->f);
      break;
    case 5:
      dg_gemm(&bx, 0, 1, q->n, q->c, q->f, 1.0f, q->dy, q->f, q->wt, q->f, 0.0f,
              q->out, q->c);
      break;
  }
}

static double kcall_seconds(const kcall *q, int reps) {
  int inner = 1;
  for (;;) {
    double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < inner; i++) kcall_run(q);
    if (now_s(CLOCK_THREAD_CPUTIME_ID) - t0 > 0.02 || inner > 1 << 16) break;
    inner *= 2;
  }
  double *t = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < inner; i++) kcall_run(q);
    t[r] = (now_s(CLOCK_THREAD_CPUTIME_ID) - t0) / inner;
  }
  stats s = summarize(t, reps);
  free(t);
  return s.med;
}

static float *frand_array(size_t n) {
  float *a = malloc(sizeof(float) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) a[i] = frand() - 0.5f;
  return a;
}

static int cmd_kernels(int batch, int reps) {
  static const char *const kname[] = {"forward", "grad_w", "grad_in",
                                      "forward", "grad_w", "grad_in"};
  /* the cnn's convolutions (3x3 valid) and the mlp's 784 -> 128 layer */
  static const struct {
    const char *layer;
    int dense, h, w, c, f, k;
  } shapes[] = {{"cnn conv1 28x28x1->32", 0, 28, 28, 1, 32, 3},
                {"cnn conv2 26x26x32->32", 0, 26, 26, 32, 32, 3},
                {"cnn conv3 12x12x32->64", 0, 12, 12, 32, 64, 3},
                {"cnn conv4 10x10x64->64", 0, 10, 10, 64, 64, 3},
                {"mlp dense 784->128", 1, 1, 1, 784, 128, 1}};
  bx = dg_exec_default(); /* one thread */
  int n = batch;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int h = shapes[s].h, w = shapes[s].w, c = shapes[s].c, f = shapes[s].f;
    int k = shapes[s].k, oh = h - k + 1, ow = w - k + 1;
    size_t nin = (size_t)n * h * w * c, nout = (size_t)n * oh * ow * f;
    size_t nw = (size_t)k * k * c * f;
    size_t nwork = shapes[s].dense ? 1 : dg_conv2d_work(n, h, w, c, f, k, 0);
    float *x = frand_array(nin), *wt = frand_array(nw), *b = frand_array(f);
    float *dy = frand_array(nout), *work = frand_array(nwork);
    float *out = frand_array(nin > nout ? (nin > nw + f ? nin : nw + f)
                                        : (nout > nw + f ? nout : nw + f));
    double flop = 2.0 * (double)n * oh * ow * f * k * k * c;
    for (int kind = 0; kind < 3; kind++) {
      if (kind == 2 && !shapes[s].dense && s == 0) continue; /* no din */
      kcall q = {kind + 3 * shapes[s].dense, n, h, w, c, f, k, x, wt, b, dy,
                 out, work};
      double sec = kcall_seconds(&q, reps);
      printf("{\"kind\":\"kernel\",\"target\":\"native\",\"layer\":\"%s\","
             "\"op\":\"%s\",\"batch\":%d,\"ms\":%.4f,\"gflops\":%.2f}\n",
             shapes[s].layer, kname[kind], n, sec * 1e3, flop / sec * 1e-9);
    }
    free(x), free(wt), free(b), free(dy), free(work), free(out);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "peak")) return cmd_peak(atoi(argv[2]));
  if (argc >= 6 && !strcmp(argv[1], "predict"))
    return cmd_predict(argv[2], atoi(argv[3]), !strcmp(argv[4], "canvas"),
                       atoi(argv[5]));
  if (argc >= 6 && !strcmp(argv[1], "train"))
    return cmd_train(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  if (argc >= 4 && !strcmp(argv[1], "kernels"))
    return cmd_kernels(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 3 && !strcmp(argv[1], "photo")) return cmd_photo(argv[2]);
  if (argc >= 4 && !strcmp(argv[1], "preprocess"))
    return cmd_preprocess(argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 1,
                          argc >= 5 ? argv[4] : "");
  fprintf(stderr,
          "usage: bench_native peak REPS | predict ARCH BATCH net|canvas REPS"
          " | train ARCH BATCH THREADS REPS | kernels BATCH REPS"
          " | photo OUT.jpg | preprocess FILE REPS [SOURCE]\n");
  return 2;
}
