/* harness.c: failure counting and paths for the C tests. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

int dg_test_failures = 0;
int dg_test_checks = 0;

int dg_test_contains(const char *s, const char *sub) {
  return s && sub && strstr(s, sub) != NULL;
}

const char *dg_test_path(const char *env, const char *rel) {
  static char bufs[8][1024];
  static int next = 0;
  const char *dir = getenv(env);
  char *b = bufs[next++ % 8];
  if (!dir) dir = ".";
  snprintf(b, sizeof bufs[0], "%s/%s", dir, rel);
  return b;
}

const char *dg_test_mnist(void) {
  const char *d = getenv("DIGITS_DATA");
  return d && *d ? d : NULL;
}

int dg_test_finish(void) {
  fprintf(stderr, "%d checks, %d failed\n", dg_test_checks, dg_test_failures);
  printf("%d passed, %d failed\n", dg_test_checks - dg_test_failures,
         dg_test_failures);
  return dg_test_failures ? 1 : 0;
}
