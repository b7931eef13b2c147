/* photo_eval.c: reads the photo test set the way users' photos are read
 * (dg_image_load, dg_preprocess_ex, the network) and reports accuracy per
 * condition as a Markdown table.
 *
 *   photo_eval MANIFEST [--model FILE] [--min-acc X] [--min-cond-acc Y]
 *              [--sheet FILE [--sheet-per N] [--sheet-pick first|wrong]]
 *              [--cond-floor COND=X[,COND=X...]] [--save-inputs DIR] [--misses]
 *
 * MANIFEST is photo_gen's manifest.csv (file,label,condition,source,x,y,w,h;
 * files relative to it). The table has per condition: images, correct,
 * accuracy, empty/uncertain answers (DG_ERR_EMPTY / DG_ERR_UNCERTAIN, which
 * count as wrong), how often the box preprocessing read overlaps the
 * digit's true box (IoU >= 0.5), and the median preprocessing time.
 * --min-acc / --min-cond-acc: exit status 1 when the overall accuracy or any
 * condition's accuracy is below the floor (ctest photos_sample);
 * --cond-floor sets a condition's own floor instead of --min-cond-acc.
 * --sheet: a PNG with, per entry, the photo (downscaled, the box read in
 * orange), the 28x28 input the network saw (4x) and the reading, framed in
 * green when right and red when wrong; N entries per condition (1): the
 * condition's first images (first), its misreads first (wrong), or images
 * c%4, c%4+4, ... of the c-th condition (varied: MNIST and pen digits
 * alternate down the sheet).
 * --save-inputs DIR: each image's 28x28 input as DIR/<name>.png (4x).
 * --misses: one line per misread image on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "digits.h"
#include "photo_lib.h"

#ifndef PHOTO_DEFAULT_MODEL
#define PHOTO_DEFAULT_MODEL "models/default.safetensors"
#endif

#define MAXCOND 64

/* ---- a 5x7 font for the sheet ------------------------------------------------ */

static const char font_chars[] = "0123456789abcdefghijklmnopqrstuvwxyz_.?:->=()%";
static const uint8_t font_rows[][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}, {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E},
    {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}, {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F},
    {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}, {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08},
    {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}, {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11},
    {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}, {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C},
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}, {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11},
    {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}, {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10},
    {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}, {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},
    {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}, {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06},
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}, {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04},
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}, {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11},
    {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}, {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
    {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}, {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}, {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}};

typedef struct {
  uint8_t *p; /* (h, w, 3) */
  int w, h;
} canvas;

static void put(canvas *c, int x, int y, const uint8_t col[3]) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
  memcpy(c->p + ((size_t)y * c->w + x) * 3, col, 3);
}

static void fill(canvas *c, int x, int y, int w, int h, const uint8_t col[3]) {
  for (int j = y; j < y + h; j++)
    for (int i = x; i < x + w; i++) put(c, i, j, col);
}

/* Text at (x, y), each font pixel s x s; unknown characters as spaces. */
static void text(canvas *c, int x, int y, int s, const char *t, const uint8_t col[3]) {
  for (; *t; t++, x += 6 * s) {
    const char *f = strchr(font_chars, *t >= 'A' && *t <= 'Z' ? *t - 'A' + 'a' : *t);
    if (!f || !*t) continue;
    const uint8_t *rows = font_rows[f - font_chars];
    for (int r = 0; r < 7; r++)
      for (int b = 0; b < 5; b++)
        if (rows[r] >> (4 - b) & 1) fill(c, x + b * s, y + r * s, s, s, col);
  }
}

/* ---- the manifest --------------------------------------------------------------- */

typedef struct {
  char file[512], cond[64], source[64];
  int label, box[4];
} item;

static int read_manifest(const char *path, item **out, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "photo_eval: %s: %s\n", path, strerror(errno));
    return -1;
  }
  char line[2048];
  int cap = 256, cnt = 0, lineno = 0;
  item *it = malloc(sizeof *it * cap);
  while (it && fgets(line, sizeof line, f)) {
    lineno++;
    if (lineno == 1 && strncmp(line, "file,", 5) == 0) continue;
    if (line[0] == '\n' || line[0] == 0) continue;
    if (cnt == cap) {
      item *m = realloc(it, sizeof *it * (cap *= 2));
      if (!m) break;
      it = m;
    }
    item *e = &it[cnt];
    if (sscanf(line, "%511[^,],%d,%63[^,],%63[^,],%d,%d,%d,%d", e->file, &e->label, e->cond,
               e->source, &e->box[0], &e->box[1], &e->box[2], &e->box[3]) != 8 ||
        e->label < 0 || e->label > 9) {
      fprintf(stderr, "photo_eval: %s:%d: expected file,label,condition,source,x,y,w,h\n",
              path, lineno);
      fclose(f);
      free(it);
      return -1;
    }
    cnt++;
  }
  fclose(f);
  if (!it) {
    fprintf(stderr, "photo_eval: out of memory\n");
    return -1;
  }
  *out = it, *n = cnt;
  return 0;
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct {
  char name[64];
  int n, correct, empty, boxok, errors;
  double *ms;
} cond_stat;

/* One sheet entry, kept small: a thumbnail and the input. */
#define THUMB 144
typedef struct {
  int used, cond, label, pred, status;
  float conf;
  uint8_t thumb[THUMB * THUMB * 3];
  float input[784];
  char name[64];
} entry;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The photo scaled to fit THUMB x THUMB (area average), on dark grey, with
 * the box that was read outlined in orange. */
static void make_thumb(entry *e, const uint8_t *px, int w, int h, int ch, const int *box) {
  static const uint8_t bg[3] = {40, 40, 40}, orange[3] = {255, 140, 0};
  canvas c = {e->thumb, THUMB, THUMB};
  fill(&c, 0, 0, THUMB, THUMB, bg);
  double f = (double)(w > h ? w : h) / THUMB;
  int tw = (int)(w / f), th = (int)(h / f), ox = (THUMB - tw) / 2, oy = (THUMB - th) / 2;
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++) {
      int sx0 = (int)(x * f), sy0 = (int)(y * f), sx1 = (int)((x + 1) * f), sy1 = (int)((y + 1) * f);
      if (sx1 <= sx0) sx1 = sx0 + 1;
      if (sy1 <= sy0) sy1 = sy0 + 1;
      if (sx1 > w) sx1 = w;
      if (sy1 > h) sy1 = h;
      double acc[3] = {0, 0, 0};
      int cnt = 0;
      for (int yy = sy0; yy < sy1; yy++)
        for (int xx = sx0; xx < sx1; xx++, cnt++) {
          const uint8_t *p = px + ((size_t)yy * w + xx) * ch;
          for (int k = 0; k < 3; k++) acc[k] += p[ch >= 3 ? k : 0];
        }
      uint8_t col[3];
      for (int k = 0; k < 3; k++) col[k] = (uint8_t)(cnt ? acc[k] / cnt + 0.5 : 0);
      put(&c, ox + x, oy + y, col);
    }
  if (box && box[2] > 0 && box[3] > 0) {
    int x0 = ox + (int)(box[0] / f), y0 = oy + (int)(box[1] / f);
    int x1 = ox + (int)((box[0] + box[2]) / f), y1 = oy + (int)((box[1] + box[3]) / f);
    fill(&c, x0, y0, x1 - x0 + 1, 1, orange);
    fill(&c, x0, y1, x1 - x0 + 1, 1, orange);
    fill(&c, x0, y0, 1, y1 - y0 + 1, orange);
    fill(&c, x1, y0, 1, y1 - y0 + 1, orange);
  }
}

static int write_sheet(const char *path, entry *es, int n) {
  enum { PAD = 6, ZOOM = 4, TEXTW = 170, CW = THUMB + 28 * ZOOM + TEXTW + 4 * PAD,
         CH = THUMB + 2 * PAD, COLS = 3 };
  int used = 0;
  for (int i = 0; i < n; i++) used += es[i].used;
  if (!used) return 0;
  int rows = (used + COLS - 1) / COLS;
  canvas c = {calloc((size_t)COLS * CW * rows * CH * 3, 1), COLS * CW, rows * CH};
  if (!c.p) return -1;
  static const uint8_t bg[3] = {250, 250, 250}, green[3] = {30, 160, 60},
                       red[3] = {210, 40, 40}, ink[3] = {20, 20, 20}, grey[3] = {110, 110, 110};
  fill(&c, 0, 0, c.w, c.h, bg);
  for (int i = 0, slot = 0; i < n; i++) {
    entry *e = &es[i];
    if (!e->used) continue;
    int x = (slot % COLS) * CW, y = (slot / COLS) * CH;
    slot++;
    int ok = e->status == DG_OK && e->pred == e->label;
    fill(&c, x + 2, y + 2, CW - 4, CH - 4, ok ? green : red);
    fill(&c, x + 5, y + 5, CW - 10, CH - 10, bg);
    for (int j = 0; j < THUMB; j++)
      memcpy(c.p + ((size_t)(y + PAD + j) * c.w + x + PAD) * 3, e->thumb + (size_t)j * THUMB * 3,
             THUMB * 3);
    int ix = x + PAD + THUMB + PAD, iy = y + PAD + (THUMB - 28 * ZOOM) / 2;
    for (int j = 0; j < 28 * ZOOM; j++)
      for (int k = 0; k < 28 * ZOOM; k++) {
        float v = e->input[(j / ZOOM) * 28 + k / ZOOM];
        uint8_t g = (uint8_t)(v <= 0 ? 0 : v >= 1 ? 255 : v * 255 + 0.5f);
        uint8_t col[3] = {g, g, g};
        put(&c, ix + k, iy + j, col);
      }
    int tx = ix + 28 * ZOOM + PAD, ty = y + PAD + 8;
    char line[64];
    text(&c, tx, ty, 2, e->name, ink);
    snprintf(line, sizeof line, "label %d", e->label);
    text(&c, tx, ty + 30, 2, line, grey);
    if (e->status == DG_OK)
      snprintf(line, sizeof line, "read %d", e->pred);
    else
      snprintf(line, sizeof line, "read ?");
    text(&c, tx, ty + 60, 3, line, ok ? green : red);
    if (e->status == DG_OK)
      snprintf(line, sizeof line, "p=%.2f", e->conf);
    else
      snprintf(line, sizeof line, "%s", e->status == DG_ERR_UNCERTAIN ? "uncertain" : "empty");
    text(&c, tx, ty + 94, 2, line, grey);
  }
  int st = dg_image_write_png(path, c.p, c.w, c.h, 3);
  free(c.p);
  if (st) fprintf(stderr, "photo_eval: %s\n", dg_last_error());
  return st ? -1 : 0;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  const char *manifest = NULL, *model = PHOTO_DEFAULT_MODEL, *sheet = NULL, *inputs = NULL;
  double min_acc = -1, min_cond = -1;
  char floor_name[MAXCOND][64];
  double floor_val[MAXCOND];
  int nfloor = 0;
  int sheet_per = 1, pick = 0, misses = 0; /* pick: 0 first, 1 wrong, 2 varied */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (strcmp(a, "--model") == 0 && more) {
      model = argv[++i];
    } else if (strcmp(a, "--sheet") == 0 && more) {
      sheet = argv[++i];
    } else if (strcmp(a, "--sheet-per") == 0 && more) {
      sheet_per = atoi(argv[++i]);
      if (sheet_per < 1 || sheet_per > 100) {
        fprintf(stderr, "photo_eval: --sheet-per: 1 to 100\n");
        return 2;
      }
    } else if (strcmp(a, "--sheet-pick") == 0 && more) {
      const char *p = argv[++i];
      if (strcmp(p, "first") && strcmp(p, "wrong") && strcmp(p, "varied")) {
        fprintf(stderr, "photo_eval: --sheet-pick: first, wrong or varied\n");
        return 2;
      }
      pick = strcmp(p, "wrong") == 0 ? 1 : strcmp(p, "varied") == 0 ? 2 : 0;
    } else if (strcmp(a, "--save-inputs") == 0 && more) {
      inputs = argv[++i];
    } else if ((strcmp(a, "--min-acc") == 0 || strcmp(a, "--min-cond-acc") == 0) && more) {
      double v;
      if (parse_double(argv[++i], &v) || v < 0 || v > 1) {
        fprintf(stderr, "photo_eval: %s: a fraction 0..1, got %s\n", a, argv[i]);
        return 2;
      }
      *(strcmp(a, "--min-acc") == 0 ? &min_acc : &min_cond) = v;
    } else if (strcmp(a, "--cond-floor") == 0 && more) {
      char buf[4096];
      snprintf(buf, sizeof buf, "%s", argv[++i]);
      for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        double v;
        if (!eq || eq == t || nfloor == MAXCOND || parse_double(eq + 1, &v) || v < 0 || v > 1) {
          fprintf(stderr, "photo_eval: --cond-floor: expected COND=X (X in 0..1), got %s\n", t);
          return 2;
        }
        *eq = 0;
        snprintf(floor_name[nfloor], sizeof floor_name[0], "%s", t);
        floor_val[nfloor++] = v;
      }
    } else if (strcmp(a, "--misses") == 0) {
      misses = 1;
    } else if (a[0] == '-' || manifest) {
      fprintf(stderr,
              "usage: photo_eval MANIFEST [--model FILE] [--min-acc X] [--min-cond-acc Y]\n"
              "       [--sheet FILE [--sheet-per N] [--sheet-pick first|wrong|varied]]\n"
              "       [--cond-floor COND=X[,...]] [--save-inputs DIR] [--misses]\n");
      return 2;
    } else {
      manifest = a;
    }
  }
  if (!manifest) {
    fprintf(stderr, "usage: photo_eval MANIFEST [options] (photo_eval --help)\n");
    return 2;
  }
  item *items;
  int n;
  if (read_manifest(manifest, &items, &n)) return 1;
  if (inputs && mkdir(inputs, 0777) && errno != EEXIST) {
    fprintf(stderr, "photo_eval: %s: %s\n", inputs, strerror(errno));
    return 1;
  }
  dg_net *net;
  if (dg_model_load(&net, model, NULL, NULL)) {
    fprintf(stderr, "photo_eval: %s\n", dg_last_error());
    free(items);
    return 1;
  }
  dg_net_set_threads(net, 1);

  /* the manifest's directory, for its relative paths */
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", manifest);
  char *slash = strrchr(dir, '/');
  if (slash) slash[1] = 0; else dir[0] = 0;

  cond_stat cs[MAXCOND];
  int ncond = 0;
  entry *ent = calloc((size_t)MAXCOND * sheet_per, sizeof *ent);
  if (!ent) return 1;
  int rc = 0;
  double t_start = now();
  for (int i = 0; i < n; i++) {
    item *it = &items[i];
    int c = 0;
    while (c < ncond && strcmp(cs[c].name, it->cond)) c++;
    if (c == ncond) {
      if (ncond == MAXCOND) {
        fprintf(stderr, "photo_eval: more than %d conditions\n", MAXCOND);
        return 1;
      }
      memset(&cs[c], 0, sizeof cs[c]);
      snprintf(cs[c].name, sizeof cs[c].name, "%s", it->cond);
      cs[c].ms = calloc((size_t)n, sizeof(double));
      ncond++;
    }
    cond_stat *s = &cs[c];
    char path[2048];
    if (it->file[0] == '/')
      snprintf(path, sizeof path, "%s", it->file);
    else
      snprintf(path, sizeof path, "%s%s", dir, it->file);
    uint8_t *px = NULL;
    int w, h, ch;
    float x[784], probs[10];
    dg_preprocess_info info;
    memset(&info, 0, sizeof info);
    memset(x, 0, sizeof x);
    int pred = -1, st;
    float conf = 0;
    s->n++;
    if ((st = dg_image_load(path, &px, &w, &h, &ch))) {
      fprintf(stderr, "photo_eval: %s\n", dg_last_error());
      s->errors++;
      continue;
    }
    double t0 = now();
    st = dg_preprocess_ex(px, w, h, ch, x, &info);
    s->ms[s->n - s->errors - 1] = (now() - t0) * 1e3;
    if (st == DG_OK) {
      if (dg_net_predict(net, x, 1, probs)) {
        fprintf(stderr, "photo_eval: %s: %s\n", path, dg_last_error());
        s->errors++;
        free(px);
        continue;
      }
      pred = 0;
      for (int k = 1; k < 10; k++)
        if (probs[k] > probs[pred]) pred = k;
      conf = probs[pred];
      if (pred == it->label) s->correct++;
      if (photo_box_iou(info.box, it->box) >= 0.5) s->boxok++;
    } else if (st == DG_ERR_EMPTY || st == DG_ERR_UNCERTAIN) {
      s->empty++;
    } else {
      fprintf(stderr, "photo_eval: %s: %s\n", path, dg_last_error());
      s->errors++;
    }
    int right = st == DG_OK && pred == it->label;
    if (misses && !right)
      fprintf(stderr, "miss %s label %d read %s%d p=%.3f box %d,%d,%d,%d read box %d,%d,%d,%d\n",
              it->file, it->label, st == DG_OK ? "" : "?", st == DG_OK ? pred : st, conf,
              it->box[0], it->box[1], it->box[2], it->box[3], info.box[0], info.box[1],
              info.box[2], info.box[3]);
    char base[256];
    const char *b = strrchr(it->file, '/');
    snprintf(base, sizeof base, "%s", b ? b + 1 : it->file);
    char *dot = strrchr(base, '.');
    if (dot) *dot = 0;
    if (inputs) {
      uint8_t img[112 * 112];
      for (int j = 0; j < 112; j++)
        for (int k = 0; k < 112; k++) {
          float v = x[(j / 4) * 28 + k / 4];
          img[j * 112 + k] = (uint8_t)(v <= 0 ? 0 : v >= 1 ? 255 : v * 255 + 0.5f);
        }
      char op[2048];
      snprintf(op, sizeof op, "%s/%s.png", inputs, base);
      if (dg_image_write_png(op, img, 112, 112, 1))
        fprintf(stderr, "photo_eval: %s\n", dg_last_error());
    }
    int pos = s->n - 1; /* this image's place within its condition */
    if (sheet && (pick != 2 || (pos % 4 == c % 4 && pos / 4 < sheet_per))) {
      /* the condition's first (or chosen) images; with "wrong", misreads
       * replace right readings as they come */
      entry *slot = NULL;
      for (int k = 0; k < sheet_per && !slot; k++)
        if (!ent[c * sheet_per + k].used) slot = &ent[c * sheet_per + k];
      if (!slot && pick == 1 && !right)
        for (int k = 0; k < sheet_per && !slot; k++) {
          entry *e = &ent[c * sheet_per + k];
          if (e->status == DG_OK && e->pred == e->label) slot = e;
        }
      if (slot) {
        slot->used = 1, slot->cond = c, slot->label = it->label, slot->pred = pred;
        slot->status = st, slot->conf = conf;
        memcpy(slot->input, x, sizeof x);
        snprintf(slot->name, sizeof slot->name, "%.63s", base);
        make_thumb(slot, px, w, h, ch, st == DG_OK ? info.box : NULL);
      }
    }
    free(px);
  }
  double elapsed = now() - t_start;

  /* the table */
  int tn = 0, tc = 0, te = 0, tb = 0, terr = 0;
  double *all_ms = calloc((size_t)n + 1, sizeof(double));
  int nall = 0;
  printf("| condition | n | correct | accuracy | empty/uncertain | box IoU>=0.5 | median ms |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  int below = 0;
  for (int c = 0; c < ncond; c++) {
    cond_stat *s = &cs[c];
    int m = s->n - s->errors;
    qsort(s->ms, (size_t)m, sizeof(double), cmp_double);
    for (int k = 0; k < m; k++) all_ms[nall++] = s->ms[k];
    double acc = s->n ? (double)s->correct / s->n : 0;
    printf("| %s | %d | %d | %.1f%% | %d | %d | %.2f |\n", s->name, s->n, s->correct, 100 * acc,
           s->empty, s->boxok, m ? s->ms[m / 2] : 0.0);
    double fl = min_cond;
    for (int k = 0; k < nfloor; k++)
      if (strcmp(floor_name[k], s->name) == 0) fl = floor_val[k];
    if (fl >= 0 && acc < fl) {
      fprintf(stderr, "photo_eval: %s: accuracy %.3f below the floor %.3f\n", s->name, acc, fl);
      below = 1;
    }
    tn += s->n, tc += s->correct, te += s->empty, tb += s->boxok, terr += s->errors;
  }
  qsort(all_ms, (size_t)nall, sizeof(double), cmp_double);
  double acc = tn ? (double)tc / tn : 0;
  printf("| **all** | %d | %d | **%.1f%%** | %d | %d | %.2f |\n", tn, tc, 100 * acc, te, tb,
         nall ? all_ms[nall / 2] : 0.0);
  fprintf(stderr, "photo_eval: %d images, %d correct (%.2f%%), %d empty/uncertain, %d errors, %.1f s\n",
          tn, tc, 100 * acc, te, terr, elapsed);
  if (min_acc >= 0 && acc < min_acc) {
    fprintf(stderr, "photo_eval: accuracy %.4f below the floor %.4f\n", acc, min_acc);
    below = 1;
  }
  if (terr) rc = 1;
  if (below) rc = 1;
  if (sheet && write_sheet(sheet, ent, MAXCOND * sheet_per)) rc = 1;
  for (int c = 0; c < ncond; c++) free(cs[c].ms);
  free(all_ms);
  free(ent);
  free(items);
  dg_net_free(net);
  return rc;
}
