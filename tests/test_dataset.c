/* test_dataset.c: the CSV reader from memory (every layout it accepts and
 * one message for each kind of malformed input, the buffer left untouched
 * on failure), and what dg_data_kind_of says about paths. */
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

/* A CSV into a new buffer: an optional header, rows of label (or none)
 * and 784 pixels, pixel k of row r = (r * 7 + k) % 256. */
static char *make_csv(int header, int labelled, int rows, const char *eol) {
  size_t cap = (size_t)(rows + 1) * 785 * 12 + 16, n = 0;
  char *b = malloc(cap);
  if (!b) return NULL;
  if (header) {
    n += (size_t)snprintf(b + n, cap - n, "%s", labelled ? "label," : "");
    for (int k = 0; k < 784; k++)
      n += (size_t)snprintf(b + n, cap - n, "pixel%d%s", k, k < 783 ? "," : eol);
  }
  for (int r = 0; r < rows; r++) {
    if (labelled) n += (size_t)snprintf(b + n, cap - n, "%d,", r % 10);
    for (int k = 0; k < 784; k++)
      n += (size_t)snprintf(b + n, cap - n, "%d%s", (r * 7 + k) % 256,
                            k < 783 ? "," : eol);
  }
  return b;
}

static void check_pixels(const dg_dataset *ds, int rows) {
  int bad = 0;
  for (int r = 0; r < rows; r++)
    for (int k = 0; k < 784; k++)
      bad += ds->images[r * 784 + k] != (float)((r * 7 + k) % 256) * (1.0f / 255.0f);
  CHECK_MSG(bad == 0, "%d pixels differ", bad);
}

static void test_layouts(void) {
  dg_dataset ds = {0};
  int has = -1;
  char *b = make_csv(1, 1, 5, "\n");
  CHECK_OK(dg_csv_parse(&ds, b, strlen(b), "t.csv", 1, &has));
  CHECK(ds.n == 5 && ds.h == 28 && ds.w == 28 && has == 1 && ds.labels);
  CHECK(ds.labels && ds.labels[3] == 3);
  check_pixels(&ds, 5);
  dg_dataset_free(&ds);
  free(b);
  /* no header, CRLF */
  b = make_csv(0, 1, 3, "\r\n");
  CHECK_OK(dg_csv_parse(&ds, b, strlen(b), "t.csv", 1, &has));
  CHECK(ds.n == 3);
  check_pixels(&ds, 3);
  dg_dataset_free(&ds);
  free(b);
  /* unlabelled: fine for need_labels 0, refused for 1 */
  b = make_csv(1, 0, 4, "\n");
  CHECK_OK(dg_csv_parse(&ds, b, strlen(b), "t.csv", 0, &has));
  CHECK(ds.n == 4 && has == 0 && ds.labels == NULL);
  check_pixels(&ds, 4);
  dg_dataset_free(&ds);
  CHECK_FAIL(dg_csv_parse(&ds, b, strlen(b), "t.csv", 1, NULL), DG_ERR_FORMAT,
             "no label column");
  free(b);
}

/* One malformed buffer: the status, a message with want, ds untouched. */
static void bad(const char *csv, size_t len, const char *want) {
  dg_dataset ds = {7, 1, 1, NULL, NULL};
  CHECK_FAIL(dg_csv_parse(&ds, csv, len, "x.csv", 1, NULL), DG_ERR_FORMAT, want);
  CHECK(ds.n == 7 && ds.images == NULL);
}

static void test_malformed(void) {
  bad("", 0, "x.csv: empty file");
  bad("\n \n\r\n", 5, "empty file");
  bad("a,b,c\n", 6, "line 1: the header has 3 columns");
  bad("1,2\n", 4, "line 1: the first row has 2 columns");
  bad("\0\1\2", 3, "binary data");
  char *b = make_csv(1, 1, 2, "\n");
  size_t n = strlen(b);
  /* header only */
  char *nl = strchr(b, '\n');
  bad(b, (size_t)(nl - b + 1), "no data rows");
  /* a row cut short: its last field gone */
  char *end = b + n - 1;                   /* the final '\n' */
  char *comma = end;
  while (*comma != ',') comma--;
  size_t cut = (size_t)(comma - b);
  char *c = malloc(n + 64);
  memcpy(c, b, cut);
  c[cut] = '\n';
  bad(c, cut + 1, "line 3 has 784 columns, expected 785");
  /* values out of range, not numbers, a bad label */
  const char *repl[][2] = {{"256", "\"256\" is not an integer 0..255"},
                           {"x", "\"x\" is not an integer"},
                           {"-3", "\"-3\""},
                           {"", "\"\" is not an integer"},
                           {"1e2", "\"1e2\""},
                           {"99999999999999999999999", "\"9999"}};
  for (size_t i = 0; i < sizeof repl / sizeof repl[0]; i++) {
    memcpy(c, b, cut + 1);
    size_t m = cut + 1 + (size_t)sprintf(c + cut + 1, "%s\n", repl[i][0]);
    bad(c, m, repl[i][1]);
    CHECK(dg_test_contains(dg_last_error(), "line 3, column 785 (pixel783)"));
  }
  /* a label of 10 on row 1 */
  size_t head = (size_t)(nl - b) + 1; /* row 1 starts "0," (label 0) */
  memcpy(c, b, head);
  memcpy(c + head, "10", 2);
  memcpy(c + head + 2, b + head + 1, n - head - 1);
  bad(c, n + 1, "line 2, column 1 (label): \"10\" is not a digit 0..9");
  free(c);
  free(b);
  /* a long line without commas */
  size_t big = 100000;
  char *l = malloc(big);
  memset(l, '1', big);
  bad(l, big, "line 1 is longer than 65536 bytes");
  free(l);
  /* quoted fields, spaces, blank lines between rows are fine */
  b = make_csv(1, 1, 2, "\n");
  dg_dataset ds = {0};
  n = strlen(b);
  c = malloc(n * 2 + 16);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (b[i] == '\n') c[o++] = ' ', c[o++] = '\n', c[o++] = '\n';
    else c[o++] = b[i];
  }
  CHECK_OK(dg_csv_parse(&ds, c, o, "q.csv", 1, NULL));
  CHECK(ds.n == 2);
  dg_dataset_free(&ds);
  free(c);
  free(b);
}

static void test_kind_of(void) {
  dg_data_kind k = DG_DATA_CSV;
  const char *mnist = dg_test_mnist();
  if (mnist) {
    CHECK_OK(dg_data_kind_of(mnist, &k));
    CHECK(k == DG_DATA_IDX);
  }
  CHECK_FAIL(dg_data_kind_of("/nonexistent/x.csv", &k), DG_ERR_IO, "x.csv");
  const char *src = getenv("DIGITS_SRC");
  if (src) {
    char p[4096];
    /* a file is a CSV only by its name: anything else is not a folder */
    snprintf(p, sizeof p, "%s/README.md", src);
    CHECK_FAIL(dg_data_kind_of(p, &k), DG_ERR_IO, "not a folder");
  }
  CHECK(strcmp(dg_data_kind_name(DG_DATA_IMAGES), "images") == 0);
}

int main(void) {
  RUN(test_layouts);
  RUN(test_malformed);
  RUN(test_kind_of);
  return dg_test_finish();
}
