/* number_eval: the number test set (docs/numbers.md) generated in memory
 * and read with dg_read_number: whole-number and per-digit accuracy by
 * length, spacing and background.
 *
 *   number_eval [--per N] [--seed S] [--data DIR] [--model FILE]
 *               [--verifier FILE]... [--lens A-B] [--write DIR] [--misses]
 *               [--floor SPACING=X,...] [--digit-floor X]
 *
 * --per N numbers of every (length, spacing, background); --write DIR
 * also saves each image as PNG with DIR/manifest.csv (file,number) for
 * `digits predict --number`; --floor ordinary=0.97 makes it exit 1 when
 * a spacing's whole-number accuracy (lengths up to 6) is below X;
 * --verifier FILE reads with that verifier (verifier_train.c) beside the
 * model, as dg_read_number_readers does: a verifier of pieces, or a
 * window reader (verifier_train --kind window); given more than once,
 * window readers averaged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "number_lib.h"
#include "preprocess/number.h"

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

/* Digits read right: the truth's length less the edit distance. */
static int digits_right(const char *truth, const char *got) {
  int n = (int)strlen(truth), m = (int)strlen(got);
  int d[NUMBER_MAX_LEN + 1][DG_NUMBER_MAX + 2];
  if (m > DG_NUMBER_MAX) m = DG_NUMBER_MAX;
  for (int i = 0; i <= n; i++) d[i][0] = i;
  for (int j = 0; j <= m; j++) d[0][j] = j;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      int a = d[i - 1][j] + 1, b = d[i][j - 1] + 1,
          c = d[i - 1][j - 1] + (truth[i - 1] != got[j - 1]);
      d[i][j] = a < b ? (a < c ? a : c) : (b < c ? b : c);
    }
  int r = n - d[n][m];
  return r < 0 ? 0 : r;
}

typedef struct {
  long n, right, dn, dright;
  long count_err, count_lost;  /* misses with the wrong digit count; digits lost in them */
} tally;

int main(int argc, char **argv) {
  int per = 20, lo = NUMBER_MIN_LEN, hi = NUMBER_MAX_LEN, misses = 0;
  uint64_t seed = 23;
  const char *data = getenv("DIGITS_DATA"), *model = NULL, *write = NULL;
  const char *verifier[DG_NUMBER_MAX_VERIFIERS];
  int nver = 0;
  double floors[NS_SPACINGS] = {0, 0, 0}, dfloor = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--misses")) { misses = 1; continue; }
    if (!v) { fprintf(stderr, "number_eval: %s needs a value\n", a); return 2; }
    i++;
    if (!strcmp(a, "--per")) per = atoi(v);
    else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--data")) data = v;
    else if (!strcmp(a, "--model")) model = v;
    else if (!strcmp(a, "--verifier") && nver == DG_NUMBER_MAX_VERIFIERS) {
      fprintf(stderr, "number_eval: at most %d --verifier\n", DG_NUMBER_MAX_VERIFIERS);
      return 2;
    } else if (!strcmp(a, "--verifier")) verifier[nver++] = v;
    else if (!strcmp(a, "--write")) write = v;
    else if (!strcmp(a, "--digit-floor")) dfloor = atof(v);
    else if (!strcmp(a, "--lens")) {
      if (sscanf(v, "%d-%d", &lo, &hi) != 2 || lo < NUMBER_MIN_LEN || hi > NUMBER_MAX_LEN || lo > hi) {
        fprintf(stderr, "number_eval: --lens A-B within 2-8\n");
        return 2;
      }
    } else if (!strcmp(a, "--floor")) {
      char buf[256];
      snprintf(buf, sizeof buf, "%s", v);
      for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        int k = -1;
        for (int s = 0; s < NS_SPACINGS && eq; s++)
          if (!strncmp(t, number_spacing_names[s], (size_t)(eq - t))) k = s;
        if (k < 0) { fprintf(stderr, "number_eval: bad --floor %s\n", t); return 2; }
        floors[k] = atof(eq + 1);
      }
    } else { fprintf(stderr, "number_eval: unknown option %s\n", a); return 2; }
  }
  if (!data) data = NUMBER_DEFAULT_DATA;
  if (!model) model = NUMBER_DEFAULT_MODEL;
  dg_dataset t10k;
  dg_net *net = NULL;
  dg_net *ver[DG_NUMBER_MAX_VERIFIERS] = {NULL};
  int bad = dg_dataset_load(&t10k, data, "t10k") || dg_model_load(&net, model, NULL, NULL);
  for (int i = 0; !bad && i < nver; i++) bad = dg_model_load(&ver[i], verifier[i], NULL, NULL);
  if (bad) {
    fprintf(stderr, "number_eval: %s\n", dg_last_error());
    return 2;
  }
  /* the verifiers' kind as dg_read_number_readers takes them */
  dg_number_opts o = {.classify = net_classify, .user = net};
  dg_number_avg avg;
  if (dg_number_opts_verifiers(&o, ver, nver, &avg)) {
    fprintf(stderr, "number_eval: --verifier: %s\n", dg_last_error());
    return 2;
  }
  FILE *man = NULL;
  if (write) {
    char p[4096];
    snprintf(p, sizeof p, "%s/manifest.csv", write);
    if (!(man = fopen(p, "w"))) { fprintf(stderr, "number_eval: cannot write %s\n", p); return 2; }
    fprintf(man, "file,number,length,spacing,background\n");
  }
  tally t[NUMBER_MAX_LEN + 1][NS_SPACINGS][NB_BACKGROUNDS];
  memset(t, 0, sizeof t);
  double ms = 0, msmax = 0, cpu = 0;
  long count = 0;
  double len_ms[NUMBER_MAX_LEN + 1] = {0}, len_cpu[NUMBER_MAX_LEN + 1] = {0}, len_max[NUMBER_MAX_LEN + 1] = {0};
  long len_n[NUMBER_MAX_LEN + 1] = {0};
  dg_number num;
  for (int len = lo; len <= hi; len++)
    for (int sp = 0; sp < NS_SPACINGS; sp++)
      for (int bg = 0; bg < NB_BACKGROUNDS; bg++)
        for (int k = 0; k < per; k++) {
          number_image im;
          if (number_render(&t10k, len, sp, bg, k, seed, &im)) {
            fprintf(stderr, "number_eval: render failed\n");
            return 2;
          }
          struct timespec a, b, ca, cb;
          clock_gettime(CLOCK_MONOTONIC, &a);
          clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
          int st = dg_read_number_opts(im.px, im.w, im.h, im.c, &o, &num);
          clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
          clock_gettime(CLOCK_MONOTONIC, &b);
          double m = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) * 1e-6;
          double mc = (cb.tv_sec - ca.tv_sec) * 1e3 + (cb.tv_nsec - ca.tv_nsec) * 1e-6;
          ms += m, cpu += mc, count++;
          if (m > msmax) msmax = m;
          len_ms[len] += m, len_cpu[len] += mc, len_n[len]++;
          if (m > len_max[len]) len_max[len] = m;
          const char *got = st ? "" : num.text;
          tally *q = &t[len][sp][bg];
          q->n++, q->right += !strcmp(got, im.text);
          const int dr = digits_right(im.text, got);
          q->dn += len, q->dright += dr;
          if ((int)strlen(got) != len) q->count_err++, q->count_lost += len - dr;
          if (misses && strcmp(got, im.text))
            fprintf(stderr, "miss %s len %d %s %s k %d: read \"%s\"%s\n", im.text, len,
                    number_spacing_names[sp], number_background_names[bg], k, got,
                    st ? dg_last_error() : "");
          if (write) {
            char f[64], p[4200];
            snprintf(f, sizeof f, "n%d-%s-%s-%d.png", len, number_spacing_names[sp],
                     number_background_names[bg], k);
            snprintf(p, sizeof p, "%s/%s", write, f);
            if (dg_image_write_png(p, im.px, im.w, im.h, im.c) == DG_OK)
              fprintf(man, "%s,%s,%d,%s,%s\n", f, im.text, len,
                      number_spacing_names[sp], number_background_names[bg]);
          }
          number_free(&im);
        }
  if (man) fclose(man);
  printf("| length |");
  for (int sp = 0; sp < NS_SPACINGS; sp++) printf(" %s |", number_spacing_names[sp]);
  printf(" per digit |\n|---|");
  for (int sp = 0; sp <= NS_SPACINGS; sp++) printf("---|");
  printf("\n");
  tally ssum[NS_SPACINGS] = {{0}}, s6[NS_SPACINGS] = {{0}}, all = {0}, bsum[NB_BACKGROUNDS] = {{0}};
  for (int len = lo; len <= hi; len++) {
    tally row = {0};
    printf("| %d |", len);
    for (int sp = 0; sp < NS_SPACINGS; sp++) {
      tally c = {0};
      for (int bg = 0; bg < NB_BACKGROUNDS; bg++) {
        tally *q = &t[len][sp][bg];
        c.n += q->n, c.right += q->right, c.dn += q->dn, c.dright += q->dright;
        bsum[bg].n += q->n, bsum[bg].right += q->right;
        bsum[bg].dn += q->dn, bsum[bg].dright += q->dright;
        c.count_err += q->count_err, c.count_lost += q->count_lost;
      }
      printf(" %.1f%% (%ld/%ld) |", 100.0 * c.right / c.n, c.right, c.n);
      ssum[sp].n += c.n, ssum[sp].right += c.right, ssum[sp].dn += c.dn, ssum[sp].dright += c.dright;
      ssum[sp].count_err += c.count_err, ssum[sp].count_lost += c.count_lost;
      if (len <= 6) s6[sp].n += c.n, s6[sp].right += c.right;
      row.dn += c.dn, row.dright += c.dright;
    }
    all.dn += row.dn, all.dright += row.dright;
    printf(" %.2f%% |\n", 100.0 * row.dright / row.dn);
  }
  printf("| all |");
  for (int sp = 0; sp < NS_SPACINGS; sp++)
    printf(" %.1f%% (digits %.2f%%) |", 100.0 * ssum[sp].right / ssum[sp].n,
           100.0 * ssum[sp].dright / ssum[sp].dn);
  printf(" %.2f%% |\n\n", 100.0 * all.dright / all.dn);
  int fail = 0;
  for (int sp = 0; sp < NS_SPACINGS; sp++) {
    double acc = s6[sp].n ? (double)s6[sp].right / s6[sp].n : 1;
    printf("%s, lengths up to 6: %.2f%% whole numbers (%ld)\n", number_spacing_names[sp],
           100 * acc, s6[sp].n);
    if (acc < floors[sp]) {
      fprintf(stderr, "number_eval: %s %.4f below the floor %.4f\n", number_spacing_names[sp], acc, floors[sp]);
      fail = 1;
    }
  }
  long lost = 0;
  for (int sp = 0; sp < NS_SPACINGS; sp++) {
    const tally *q = &ssum[sp];
    printf("%s misses: %ld with the wrong digit count (%ld digits lost), %ld misread at the "
           "right count (%ld digits)\n", number_spacing_names[sp], q->count_err, q->count_lost,
           q->n - q->right - q->count_err, q->dn - q->dright - q->count_lost);
    lost += q->count_lost;
  }
  printf("per digit: %.2f points of the %.2f%% lost are in numbers of the wrong digit count\n",
         100.0 * lost / all.dn, 100.0 * (all.dn - all.dright) / all.dn);
  for (int bg = 0; bg < NB_BACKGROUNDS; bg++)
    printf("%s: %.2f%% whole numbers, %.2f%% digits\n", number_background_names[bg],
           100.0 * bsum[bg].right / bsum[bg].n, 100.0 * bsum[bg].dright / bsum[bg].dn);
  printf("per digit: %.2f%% (%ld digits); dg_read_number mean %.2f ms, max %.1f ms "
         "(CPU time: mean %.2f ms)\n", 100.0 * all.dright / all.dn, all.dn, ms / count, msmax,
         cpu / count);
  printf("time by length (ms, mean/max wall, mean CPU):");
  for (int len = lo; len <= hi; len++)
    printf(" %d: %.2f/%.1f/%.2f", len, len_ms[len] / len_n[len], len_max[len], len_cpu[len] / len_n[len]);
  printf("\n");
  if ((double)all.dright / all.dn < dfloor) {
    fprintf(stderr, "number_eval: per-digit accuracy below the floor %.4f\n", dfloor);
    fail = 1;
  }
  dg_net_free(net);
  for (int i = 0; i < nver; i++) dg_net_free(ver[i]);
  dg_dataset_free(&t10k);
  return fail;
}
