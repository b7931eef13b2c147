/* harness.h: a tiny test harness. Each test_*.c defines main() that calls
 * test functions through RUN(); CHECK failures are counted and main returns
 * dg_test_finish(), whose value is non-zero when anything failed. */
#ifndef DG_HARNESS_H
#define DG_HARNESS_H

#include <math.h>
#include <stdio.h>

extern int dg_test_failures;
extern int dg_test_checks;

#define CHECK(cond)                                                        \
  do {                                                                     \
    dg_test_checks++;                                                      \
    if (!(cond)) {                                                         \
      dg_test_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
    }                                                                      \
  } while (0)

#define CHECK_MSG(cond, ...)                                               \
  do {                                                                     \
    dg_test_checks++;                                                      \
    if (!(cond)) {                                                         \
      dg_test_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,     \
              #cond);                                                      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define CHECK_NEAR(a, b, tol)                                              \
  do {                                                                     \
    double a_ = (a), b_ = (b), s_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_); \
    if (s_ < 1) s_ = 1;                                                    \
    CHECK_MSG(fabs(a_ - b_) <= (tol) * s_, "%s = %.9g, %s = %.9g", #a, a_, \
              #b, b_);                                                     \
  } while (0)

/* Status checks: expect DG_OK, or a given failure code with a message
 * containing a substring. */
#define CHECK_OK(expr)                                                     \
  do {                                                                     \
    int st_ = (expr);                                                      \
    CHECK_MSG(st_ == 0, "%s returned %d: %s", #expr, st_, dg_last_error()); \
  } while (0)
#define CHECK_FAIL(expr, code, substr)                                     \
  do {                                                                     \
    int st_ = (expr);                                                      \
    CHECK_MSG(st_ == (code) && dg_test_contains(dg_last_error(), substr),  \
              "%s returned %d (%s), wanted %d with \"%s\"", #expr, st_,     \
              dg_last_error(), (code), substr);                            \
  } while (0)

#define RUN(fn)                                                            \
  do {                                                                     \
    int before_ = dg_test_failures;                                        \
    fn();                                                                  \
    fprintf(stderr, "%-40s %s\n", #fn,                                     \
            dg_test_failures == before_ ? "ok" : "FAILED");                \
  } while (0)

int dg_test_contains(const char *s, const char *sub);
/* Path under an environment variable's folder (static buffer, rotating). */
const char *dg_test_path(const char *env, const char *rel);
/* MNIST folder, or NULL if the data is missing. */
const char *dg_test_mnist(void);
/* Print the summary and return the exit status. */
int dg_test_finish(void);

#endif
