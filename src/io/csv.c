/* csv.c: datasets in the CSV layout of Kaggle's "Digit Recognizer":
 * train.csv is `label,pixel0,...,pixel783` (785 columns), test.csv the
 * same without the label (784). Pixels are 0..255, 28x28 row-major, white
 * ink on black as in MNIST, so a row becomes an input directly (v / 255).
 *
 * Hostile input: the file is capped (DG_CSV_MAX_BYTES), the row count is
 * bounded by the file's size before anything is allocated (a valid row
 * takes at least 2 bytes a column) and capped (DG_DATA_MAX_IMAGES), a line
 * by CSV_MAX_LINE, and every field is checked: the exact column count, an
 * integer in range, nothing else. Each message names the line and column.
 * The header line is optional (a first line starting with a letter); a
 * UTF-8 byte order mark, CRLF line ends, spaces around fields, double
 * quotes around a field and blank lines are accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#define CSV_PIXELS 784
/* no valid row comes near this (785 fields of "255," are 3,140 bytes) */
#define CSV_MAX_LINE 65536

typedef struct {
  const char *name;
  const char *p, *end;  /* the rest of the buffer */
  long line;            /* 1-based number of the current line */
  int cols;             /* 785 (labelled) or 784; 0 until known */
} csv_reader;

/* Next line [*s, *e) without its line end; 0 at the end of the buffer. */
static int next_line(csv_reader *r, const char **s, const char **e) {
  if (r->p >= r->end) return 0;
  const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
  *s = r->p;
  *e = nl ? nl : r->end;
  r->p = nl ? nl + 1 : r->end;
  if (*e > *s && (*e)[-1] == '\r') (*e)--;
  r->line++;
  return 1;
}

static int blank(const char *s, const char *e) {
  for (; s < e; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

static int count_fields(const char *s, const char *e) {
  int n = 1;
  for (; s < e; s++) n += *s == ',';
  return n;
}

/* A field's text for a message: at most 24 characters, unprintable ones
 * shown as '?'. */
static void show(char *out, size_t cap, const char *s, const char *e) {
  size_t n = 0;
  for (; s < e && n + 4 < cap && n < 24; s++)
    out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
  if (s < e && n + 4 < cap) out[n++] = '.', out[n++] = '.', out[n++] = '.';
  out[n] = '\0';
}

/* The column's name for messages: "label" or "pixelK". */
static void col_name(char *out, size_t cap, int cols, int col) {
  if (cols == CSV_PIXELS + 1 && col == 0) snprintf(out, cap, "label");
  else snprintf(out, cap, "pixel%d", col - (cols == CSV_PIXELS + 1));
}

/* Parse the integer field [s, e) (spaces and one pair of quotes around it
 * allowed) into *v, 0..max. */
static int parse_field(const csv_reader *r, int col, const char *s,
                       const char *e, int max, int *v) {
  const char *a = s, *b = e;
  while (a < b && (*a == ' ' || *a == '\t')) a++;
  while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
  if (b - a >= 2 && *a == '"' && b[-1] == '"') a++, b--;
  long x = 0;
  const char *q = a;
  for (; q < b && *q >= '0' && *q <= '9'; q++)
    if (x <= 100000) x = x * 10 + (*q - '0');
  if (q == a || q != b || x > max) {
    char text[32], cn[16];
    show(text, sizeof text, s, e);
    col_name(cn, sizeof cn, r->cols, col);
    return dg_error(DG_ERR_FORMAT,
                    "%s: line %ld, column %d (%s): \"%s\" is not %s 0..%d",
                    r->name, r->line, col + 1, cn, text,
                    max == 9 ? "a digit" : "an integer", max);
  }
  *v = (int)x;
  return DG_OK;
}

static int bad_columns(const csv_reader *r, int n, const char *what) {
  return dg_error(DG_ERR_FORMAT,
                  "%s: line %ld: %s has %d column%s, expected 785 "
                  "(label,pixel0..pixel783) or 784 (pixel0..pixel783)",
                  r->name, r->line, what, n, n == 1 ? "" : "s");
}

/* The first non-blank line: a header (it starts with a letter) or the
 * first row; either way it fixes the column count. *is_header says which. */
static int read_layout(csv_reader *r, const char **s, const char **e,
                       int *is_header) {
  do {
    if (!next_line(r, s, e))
      return dg_error(DG_ERR_FORMAT, "%s: empty file: no header and no rows",
                      r->name);
  } while (blank(*s, *e));
  if (*e - *s > CSV_MAX_LINE)
    return dg_error(DG_ERR_FORMAT, "%s: line %ld is longer than %d bytes",
                    r->name, r->line, CSV_MAX_LINE);
  const char *c = *s;
  while (c < *e && (*c == ' ' || *c == '"')) c++;
  *is_header = c < *e && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'));
  int n = count_fields(*s, *e);
  if (n != CSV_PIXELS && n != CSV_PIXELS + 1)
    return bad_columns(r, n, *is_header ? "the header" : "the first row");
  r->cols = n;
  return DG_OK;
}

/* One data row [s, e) into image (784 floats) and *label. */
static int parse_row(const csv_reader *r, const char *s, const char *e,
                     float *image, uint8_t *label) {
  if (e - s > CSV_MAX_LINE)
    return dg_error(DG_ERR_FORMAT, "%s: line %ld is longer than %d bytes",
                    r->name, r->line, CSV_MAX_LINE);
  int n = count_fields(s, e);
  if (n != r->cols)
    return dg_error(DG_ERR_FORMAT,
                    "%s: line %ld has %d column%s, expected %d (%s)",
                    r->name, r->line, n, n == 1 ? "" : "s", r->cols,
                    r->cols == CSV_PIXELS ? "pixel0..pixel783"
                                          : "label,pixel0..pixel783");
  int labelled = r->cols == CSV_PIXELS + 1;
  for (int col = 0; col < n; col++) {
    const char *f = s;
    while (f < e && *f != ',') f++;
    int v = 0, st;
    if ((st = parse_field(r, col, s, f, labelled && col == 0 ? 9 : 255, &v)))
      return st;
    if (labelled && col == 0) *label = (uint8_t)v;
    else image[col - labelled] = (float)v * (1.0f / 255.0f);
    s = f + 1;
  }
  return DG_OK;
}

/* Rows a buffer of len bytes can hold at most: a valid row takes at least
 * 2 bytes a column (a digit and a comma or line end). */
static size_t max_rows(size_t len, int cols) {
  return len / (size_t)(2 * cols) + 1;
}

static int parse_rows(csv_reader *r, const char *s, const char *e,
                      int is_header, dg_dataset *out) {
  size_t cap = max_rows((size_t)(r->end - r->p) + (size_t)(e - s) + 1, r->cols);
  if (cap > DG_DATA_MAX_IMAGES) cap = DG_DATA_MAX_IMAGES;
  int labelled = r->cols == CSV_PIXELS + 1;
  float *im = malloc(cap * CSV_PIXELS * sizeof *im); /* (cap, 28, 28) */
  uint8_t *lab = labelled ? malloc(cap) : NULL;      /* (cap) */
  if (!im || (labelled && !lab)) {
    free(im), free(lab);
    return dg_error(DG_ERR_NOMEM, "%s: out of memory for %zu rows", r->name, cap);
  }
  size_t n = 0;
  int st = DG_OK, have = !is_header;
  while (have || next_line(r, &s, &e)) {
    have = 0;
    if (blank(s, e)) continue;
    if (n == cap) {
      st = dg_error(DG_ERR_FORMAT, "%s: line %ld: more than %d rows", r->name,
                    r->line, DG_DATA_MAX_IMAGES);
      break;
    }
    uint8_t l = 0;
    if ((st = parse_row(r, s, e, im + n * CSV_PIXELS, &l))) break;
    if (lab) lab[n] = l;
    n++;
  }
  if (!st && n == 0)
    st = dg_error(DG_ERR_FORMAT, "%s: no data rows after the header", r->name);
  if (st) {
    free(im), free(lab);
    return st;
  }
  float *shrunk = realloc(im, n * CSV_PIXELS * sizeof *im);
  *out = (dg_dataset){(int)n, 28, 28, shrunk ? shrunk : im, lab};
  return DG_OK;
}

int dg_csv_parse(dg_dataset *ds, const void *buf, size_t len, const char *name,
                 int need_labels, int *has_labels) {
  if (!ds || (!buf && len)) return dg_error(DG_ERR_ARG, "csv: null argument");
  if (!name) name = "csv";
  if (len > DG_CSV_MAX_BYTES)
    return dg_error(DG_ERR_FORMAT, "%s: larger than the %zu-byte limit", name,
                    DG_CSV_MAX_BYTES);
  const char *p = buf;
  size_t probe = len < 4096 ? len : 4096;
  if (probe && memchr(p, '\0', probe))
    return dg_error(DG_ERR_FORMAT, "%s: binary data, not a CSV text file", name);
  csv_reader r = {name, p, p + len, 0, 0};
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) r.p += 3;
  const char *s = NULL, *e = NULL;
  int is_header = 0, st;
  if ((st = read_layout(&r, &s, &e, &is_header))) return st;
  if (need_labels && r.cols == CSV_PIXELS)
    return dg_error(DG_ERR_FORMAT,
                    "%s: 784 columns and no label column (the unlabelled test "
                    "layout, which predict --csv reads); training and "
                    "evaluation need label,pixel0..pixel783", name);
  dg_dataset out;
  if ((st = parse_rows(&r, s, e, is_header, &out))) return st;
  *ds = out;
  if (has_labels) *has_labels = out.labels != NULL;
  return DG_OK;
}

int dg_csv_load(dg_dataset *ds, const char *path, int need_labels,
                int *has_labels) {
  if (!ds || !path) return dg_error(DG_ERR_ARG, "csv: null argument");
  uint8_t *buf = NULL;
  size_t len = 0;
  int st = dg_file_read(path, DG_CSV_MAX_BYTES, &buf, &len);
  if (st) return st;
  st = dg_csv_parse(ds, buf, len, path, need_labels, has_labels);
  free(buf);
  return st;
}
