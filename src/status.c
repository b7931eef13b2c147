/* status.c: status codes, the per-thread last-error message, build info. */
#include <stdarg.h>
#include <stdio.h>

#include "digits.h"
#include "kernels/kernels.h"

#if defined(_MSC_VER)
#define DG_THREAD_LOCAL __declspec(thread)
#else
#define DG_THREAD_LOCAL _Thread_local
#endif

static DG_THREAD_LOCAL char last_error[512];

const char *dg_last_error(void) { return last_error; }

int dg_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return code;
}

const char *dg_status_name(int code) {
  switch (code) {
    case DG_OK: return "ok";
    case DG_ERR_ARG: return "bad argument";
    case DG_ERR_NOMEM: return "out of memory";
    case DG_ERR_IO: return "i/o error";
    case DG_ERR_FORMAT: return "format error";
    case DG_ERR_EMPTY: return "empty image";
    case DG_ERR_NUMERIC: return "numeric error";
    case DG_ERR_STOPPED: return "stopped";
    case DG_ERR_UNCERTAIN: return "uncertain";
    default: return "unknown error";
  }
}

const char *dg_build_info(void) {
  static char info[160];
  if (!info[0]) {
    snprintf(info, sizeof info, "simd=%s threads=%s compiler=%s",
             dg_kernels_simd(),
#ifdef _OPENMP
             "openmp",
#else
             "none",
#endif
#if defined(__clang__)
             "clang " __clang_version__
#elif defined(__GNUC__)
             "gcc " __VERSION__
#else
             "unknown"
#endif
    );
  }
  return info;
}
