/* report.c: the HTML report of `digits eval --report DIR`: index.html with
 * inline CSS and SVG plus PNG pictures: a confusion-matrix heat map and the
 * misclassified digits (most confidently wrong first). Every file is written
 * atomically (dg_image_write_png, dg_file_write_atomic). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CELL 24          /* heat-map cell, px */
#define MAG 3            /* magnification of misclassified digits */
#define MAX_MISSES 100

static void html_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '"': fputs("&quot;", f); break;
      default: fputc(*s, f);
    }
  }
}

/* ---- pictures ------------------------------------------------------------ */

/* Cell colour: the diagonal in blue by the row fraction, errors in red with
 * a square-root scale so that a handful of mistakes still shows. */
static void cell_rgb(int diag, double frac, uint8_t rgb[3]) {
  double v = diag ? frac : sqrt(frac > 0 ? frac : 0) * 1.5;
  if (v > 1) v = 1;
  if (diag) {
    rgb[0] = (uint8_t)(255 - 215 * v);
    rgb[1] = (uint8_t)(255 - 155 * v);
    rgb[2] = (uint8_t)(255 - 55 * v);
  } else {
    rgb[0] = (uint8_t)(255 - 35 * v);
    rgb[1] = (uint8_t)(255 - 200 * v);
    rgb[2] = (uint8_t)(255 - 200 * v);
  }
}

static double row_frac(const dg_metrics *m, int i, int j) {
  int64_t total = 0;
  for (int k = 0; k < m->k; k++) total += m->confusion[i][k];
  return total ? (double)m->confusion[i][j] / total : 0;
}

static int write_heatmap(const char *path, const dg_metrics *m) {
  int side = m->k * CELL;
  uint8_t *px = malloc((size_t)side * side * 3); /* (side, side, 3) */
  if (!px) return dg_error(DG_ERR_NOMEM, "report: out of memory");
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++) {
      int i = y / CELL, j = x / CELL;
      uint8_t *p = px + ((size_t)y * side + x) * 3, rgb[3];
      cell_rgb(i == j, row_frac(m, i, j), rgb);
      if (x % CELL == 0 || y % CELL == 0) rgb[0] = rgb[1] = rgb[2] = 200;
      memcpy(p, rgb, 3);
    }
  int st = dg_image_write_png(path, px, side, side, 3);
  free(px);
  return st;
}

/* A test image magnified, dark ink on white paper as a person would write. */
static int write_digit(const char *path, const float *img, int h, int w) {
  uint8_t px[28 * MAG * 28 * MAG];
  if (h > 28 || w > 28) return dg_error(DG_ERR_ARG, "report: image too large");
  for (int y = 0; y < h * MAG; y++)
    for (int x = 0; x < w * MAG; x++) {
      float v = img[(y / MAG) * w + x / MAG];
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      px[y * w * MAG + x] = (uint8_t)lrintf(255.0f * (1.0f - v));
    }
  return dg_image_write_png(path, px, w * MAG, h * MAG, 1);
}

/* ---- training curves from the "history" metadata ------------------------- */

typedef struct {
  double *v;
  int n, cap;
} series;

static void series_push(series *s, double v) {
  if (s->n == s->cap) {
    int cap = s->cap ? s->cap * 2 : 16;
    double *nv = realloc(s->v, (size_t)cap * sizeof *nv);
    if (!nv) return;
    s->v = nv;
    s->cap = cap;
  }
  s->v[s->n++] = v;
}

/* Collect the numbers of "key" in JSON text, in order. Accepts both shapes
 * a history may take: {"loss":[1,2,3],...} and [{"loss":1,...},...]. The
 * quote before the key keeps "loss" from matching inside "val_loss".
 * Losses and accuracies are never negative: a negative value (training
 * writes -1 when there was no validation set) or null is a gap. */
static void history_series(const char *json, const char *key, series *s) {
  char pat[40];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  size_t plen = strlen(pat);
  for (const char *p = strstr(json, pat); p; p = strstr(p, pat)) {
    p += plen;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p != ':') continue;
    p++;
    while (*p == ' ' || *p == '\n') p++;
    int list = *p == '[';
    if (list) p++;
    for (;;) {
      while (*p == ' ' || *p == '\n' || *p == ',') p++;
      if (strncmp(p, "null", 4) == 0) {
        series_push(s, NAN);
        p += 4;
      } else {
        char *end;
        double v = strtod(p, &end);
        if (end == p) break;
        series_push(s, v < 0 ? NAN : v);
        p = end;
      }
      if (!list) break;
    }
  }
}

/* One SVG chart with up to two lines (train solid, validation dashed). */
static void svg_chart(FILE *f, const char *title, const series *a,
                      const char *an, const series *b, const char *bn,
                      int percent) {
  const int W = 420, H = 220, L = 48, R = 12, T = 24, B = 32;
  double lo = INFINITY, hi = -INFINITY;
  int n = a->n > b->n ? a->n : b->n;
  const series *all[2] = {a, b};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < all[k]->n; i++)
      if (isfinite(all[k]->v[i])) {
        if (all[k]->v[i] < lo) lo = all[k]->v[i];
        if (all[k]->v[i] > hi) hi = all[k]->v[i];
      }
  if (n == 0 || !isfinite(lo)) return;
  if (hi - lo < 1e-9) hi = lo + 1e-3, lo -= 1e-3;
  double pad = (hi - lo) * 0.05;
  lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad; /* no axis below zero */
  hi += pad;
  double scale = percent ? 100 : 1;
  fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "role=\"img\" aria-label=\"%s\">\n", W, H, W, H, title);
  fprintf(f, "<text x=\"%d\" y=\"16\" class=\"t\">%s</text>\n", L, title);
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
          "fill=\"none\" stroke=\"#bbb\"/>\n", L, T, W - L - R, H - T - B);
  for (int g = 0; g <= 4; g++) {
    double v = lo + (hi - lo) * g / 4;
    double y = T + (H - T - B) * (1 - (double)g / 4);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">"
            "%.*f</text>\n", L - 4, y + 4, percent ? 1 : 3, v * scale);
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">epoch 1</text>"
          "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">%d</text>\n",
          L, H - 12, W - R, H - 12, n);
  const char *style[2] = {"stroke=\"#1f5fbf\"",
                          "stroke=\"#d2691e\" stroke-dasharray=\"5 3\""};
  const char *names[2] = {an, bn};
  for (int k = 0; k < 2; k++) {
    int finite = 0;
    for (int i = 0; i < all[k]->n; i++) finite += isfinite(all[k]->v[i]) != 0;
    if (finite == 0) continue;
    fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" %s points=\"", style[k]);
    for (int i = 0; i < all[k]->n; i++) {
      if (!isfinite(all[k]->v[i])) continue;
      double x = L + (n > 1 ? (double)(W - L - R) * i / (n - 1) : (W - L - R) / 2.0);
      double y = T + (H - T - B) * (1 - (all[k]->v[i] - lo) / (hi - lo));
      fprintf(f, "%.1f,%.1f ", x, y);
    }
    fputs("\"/>\n", f);
    /* legend in the title row; inline style beats the .ax class colour */
    fprintf(f, "<text x=\"%d\" y=\"16\" class=\"ax\" style=\"fill:%s\">"
            "%s %s</text>\n", W - R - 150 + 70 * k, k ? "#d2691e" : "#1f5fbf",
            k ? "- -" : "&mdash;", names[k]);
  }
  fputs("</svg>\n", f);
}

static void write_curves(FILE *f, const char *history) {
  series loss = {0}, acc = {0}, vloss = {0}, vacc = {0};
  history_series(history, "loss", &loss);
  history_series(history, "acc", &acc);
  history_series(history, "val_loss", &vloss);
  history_series(history, "val_acc", &vacc);
  if (loss.n + vloss.n + acc.n + vacc.n > 0) {
    /* accuracies may be stored as fractions or percentages */
    double amax = 0;
    for (int i = 0; i < acc.n; i++) if (acc.v[i] > amax) amax = acc.v[i];
    for (int i = 0; i < vacc.n; i++) if (vacc.v[i] > amax) amax = vacc.v[i];
    fputs("<h2>Training curves</h2>\n<div class=\"charts\">\n", f);
    svg_chart(f, "loss", &loss, "train", &vloss, "validation", 0);
    svg_chart(f, "accuracy (%)", &acc, "train", &vacc, "validation", amax <= 1.0);
    fputs("</div>\n", f);
  }
  free(loss.v), free(acc.v), free(vloss.v), free(vacc.v);
}

/* ---- the page ---------------------------------------------------------------- */

typedef struct {
  int index;
  int pred;
  float conf;
} miss;

static int by_confidence(const void *a, const void *b) {
  const miss *x = a, *y = b;
  if (x->conf != y->conf) return x->conf < y->conf ? 1 : -1;
  return x->index - y->index;
}

static void write_model_info(FILE *f, const cli_models *models) {
  fputs("<h2>Model</h2>\n", f);
  for (int i = 0; i < models->n; i++) {
    dg_net *net = models->nets[i];
    char b[32];
    fputs("<table class=\"meta\">\n<tr><th>file</th><td>", f);
    html_text(f, models->paths[i]);
    fputs("</td></tr>\n<tr><th>architecture</th><td><code>", f);
    html_text(f, dg_net_arch(net));
    fprintf(f, "</code></td></tr>\n<tr><th>parameters</th><td>%s</td></tr>\n",
            cli_thousands(b, sizeof b, dg_net_param_count(net) + dg_net_state_count(net)));
    for (int k = 0; k < dg_net_meta_count(net); k++) {
      const char *key = NULL, *val = NULL;
      if (dg_net_meta_at(net, k, &key, &val) != DG_OK || !key) continue;
      if (strcmp(key, "history") == 0) continue; /* drawn as curves */
      fputs("<tr><th>", f);
      html_text(f, key);
      fputs("</th><td>", f);
      html_text(f, val);
      fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    const char *hist = dg_net_meta_get(net, "history");
    if (hist && models->n == 1) write_curves(f, hist);
  }
}

static void write_tables(FILE *f, const dg_metrics *m) {
  fputs("<h2>Confusion matrix</h2>\n<p>Rows: true digit; columns: predicted. "
        "Blue: correct, red: mistakes (by share of the row).</p>\n"
        "<div class=\"cm\"><img src=\"confusion.png\" width=\"240\" height=\"240\" "
        "alt=\"confusion matrix heat map\">\n<table class=\"num\">\n<tr><th>true\\pred</th>", f);
  for (int j = 0; j < m->k; j++) fprintf(f, "<th>%d</th>", j);
  fputs("</tr>\n", f);
  for (int i = 0; i < m->k; i++) {
    fprintf(f, "<tr><th>%d</th>", i);
    for (int j = 0; j < m->k; j++) {
      uint8_t rgb[3];
      cell_rgb(i == j, row_frac(m, i, j), rgb);
      int dark = rgb[0] < 128; /* white figures on the strong diagonal */
      fprintf(f, "<td style=\"background:#%02x%02x%02x%s\">%lld</td>", rgb[0],
              rgb[1], rgb[2], dark ? ";color:#fff" : "",
              (long long)m->confusion[i][j]);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table></div>\n<h2>Per class</h2>\n<table class=\"num\">\n"
        "<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
        "<th>support</th></tr>\n", f);
  for (int c = 0; c < m->k; c++) {
    double p, r, f1;
    int64_t support = 0;
    for (int j = 0; j < m->k; j++) support += m->confusion[c][j];
    dg_metrics_class(m, c, &p, &r, &f1);
    fprintf(f, "<tr><th>%d</th><td>%.4f</td><td>%.4f</td><td>%.4f</td>"
            "<td>%lld</td></tr>\n", c, p, r, f1, (long long)support);
  }
  fputs("</table>\n", f);
}

int cli_report_write(const char *dir, const cli_report *r) {
  const dg_dataset *ds = r->ds;
  const dg_metrics *m = r->m;
  char path[4096];
  if (cli_mkdirs(dir) != DG_OK) return DG_ERR_IO;

  snprintf(path, sizeof path, "%s/confusion.png", dir);
  int st = write_heatmap(path, m);
  if (st != DG_OK) return st;

  /* misclassified test images, most confident mistakes first */
  miss *misses = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *misses);
  if (!misses) return dg_error(DG_ERR_NOMEM, "report: out of memory");
  int nmiss = 0;
  for (int i = 0; i < ds->n; i++) {
    const float *p = r->probs + (size_t)i * 10;
    int best = 0;
    for (int k = 1; k < 10; k++)
      if (p[k] > p[best]) best = k;
    if (best != ds->labels[i]) misses[nmiss++] = (miss){i, best, p[best]};
  }
  qsort(misses, (size_t)nmiss, sizeof *misses, by_confidence);
  int shown = nmiss < MAX_MISSES ? nmiss : MAX_MISSES;
  for (int k = 0; k < shown; k++) {
    snprintf(path, sizeof path, "%s/miss_%03d.png", dir, k);
    st = write_digit(path, ds->images + (size_t)misses[k].index * ds->h * ds->w,
                     ds->h, ds->w);
    if (st != DG_OK) {
      free(misses);
      return st;
    }
  }

  char *html = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&html, &len);
  if (!f) {
    free(misses);
    return dg_error(DG_ERR_NOMEM, "report: out of memory");
  }
  char date[32];
  cli_iso_date(date, sizeof date);
  fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>digits evaluation report</title>\n<style>\n"
        "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:960px;"
        "padding:0 1em;color:#222}\n"
        "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
        "table{border-collapse:collapse;margin:.5em 0}\n"
        "td,th{padding:2px 8px;border:1px solid #ddd}\n"
        "table.num td{text-align:right;font-variant-numeric:tabular-nums}\n"
        "table.meta th{text-align:left;vertical-align:top}\n"
        "table.meta td{overflow-wrap:anywhere}\n"
        ".cm{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\n"
        ".cm img,.grid img{image-rendering:pixelated}\n"
        ".big{font-size:1.4em}\n"
        ".grid{display:flex;flex-wrap:wrap;gap:6px}\n"
        ".grid figure{margin:0;text-align:center;font-size:12px;width:84px}\n"
        ".grid img{border:1px solid #ccc;display:block}\n"
        ".charts{display:flex;flex-wrap:wrap;gap:1em}\n"
        "svg .t{font-weight:600;font-size:13px}svg .ax{font-size:11px;fill:#555}\n"
        "</style>\n</head>\n<body>\n<h1>digits evaluation report</h1>\n", f);
  fprintf(f, "<p class=\"big\">accuracy <b>%.2f%%</b> (%d of %d) &middot; "
          "mean loss <b>%.4f</b></p>\n", 100.0 * dg_metrics_accuracy(m),
          m->correct, m->n, dg_metrics_loss(m));
  fputs("<p>Test data: ", f);
  html_text(f, r->data_dir);
  fprintf(f, " (t10k, %d images) &middot; written %s", ds->n, date);
  if (r->models->n > 1)
    fprintf(f, " &middot; ensemble of %d models (probabilities averaged)",
            r->models->n);
  fputs("</p>\n", f);
  write_tables(f, m);
  fprintf(f, "<h2>Misclassified digits</h2>\n<p>%d of %d test images are "
          "misclassified%s.</p>\n<div class=\"grid\">\n", nmiss, ds->n,
          nmiss > shown ? "; the most confident mistakes are shown" : "");
  for (int k = 0; k < shown; k++) {
    const miss *x = &misses[k];
    fprintf(f, "<figure><img src=\"miss_%03d.png\" width=\"84\" height=\"84\" "
            "alt=\"test image %d\"><figcaption>#%d: %d &rarr; <b>%d</b> "
            "(%.2f)</figcaption></figure>\n", k, x->index, x->index,
            ds->labels[x->index], x->pred, (double)x->conf);
  }
  fputs("</div>\n", f);
  write_model_info(f, r->models);
  fputs("</body>\n</html>\n", f);
  free(misses);
  if (fclose(f) != 0 || !html) {
    free(html);
    return dg_error(DG_ERR_NOMEM, "report: out of memory");
  }
  snprintf(path, sizeof path, "%s/index.html", dir);
  st = dg_file_write_atomic(path, html, len);
  free(html);
  return st;
}
