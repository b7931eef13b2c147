/* ink.h: separating ink from paper in any image (ink.c), internal to the
 * library. preprocess.c asks for an ink map, then runs the MNIST recipe on
 * it; the numbers reader can ask for the same map and its components. */
#ifndef DG_INK_H
#define DG_INK_H

#include <stdint.h>

#include "digits.h"

/* The ink of one image at working resolution: the source downscaled by an
 * integer factor f (1 for images up to DG_INK_WORK pixels a side). */
#define DG_INK_WORK 640
/* Flat paper (drawings): components are found on a coarser map. */
#define DG_INK_WORK_FLAT 96

typedef struct {
  int W, H, f;       /* work map size and scale */
  int ox, oy;        /* source pixel (ox + x*f, oy + y*f) is work (x, y) */
  float *ink;        /* (H, W) ink 0..1 of the kept digit, 0 elsewhere */
  int box[4];        /* kept ink's box in work pixels (x, y, w, h) */
  int photo;         /* 1: paper illumination estimated (not flat paper) */
  int dark;          /* 1: ink darker than paper */
  int kept, dropped, lines, candidates;
} dg_ink;

/* Find the digit's ink in pixels (h, w, c): on success ink->ink holds the
 * kept ink (free with dg_ink_free). Returns DG_ERR_EMPTY when nothing
 * digit-sized stands out, DG_ERR_UNCERTAIN when several digit-sized shapes
 * compete (ink->candidates says how many), DG_ERR_NOMEM. *flat_all is set
 * to 1 when the image has flat paper and every ink pixel was kept: the
 * caller may then read the source pixels directly (exactly as before). */
int dg_ink_find(const uint8_t *px, int w, int h, int c, dg_ink *ink,
                int *flat_all);
void dg_ink_free(dg_ink *ink);
/* The numbers reader's: the same steps, but every digit-sized group is
 * kept (no DG_ERR_UNCERTAIN) and the map is always made (flat paper at
 * most work pixels a side, 16..DG_INK_WORK; photos as above). */
int dg_ink_find_all(const uint8_t *px, int w, int h, int c, int work,
                    dg_ink *out);
/* The MNIST recipe (crop, 20x20 box, centre of mass) on an ink map (H, W)
 * whose ink lies in box (x, y, w, h) -> out (28*28) (preprocess.c). */
int dg_preprocess_map(const float *ink, int W, int H, const int box[4],
                      float *out);
/* A map the piece was cut from: (h, w) of ink, the piece map's pixel
 * (0, 0) at its (ox, oy). */
typedef struct {
  const float *map;
  int w, h, ox, oy;
} dg_ink_context;
/* dg_preprocess_map, and ctx's ink in the same frame (the same scale,
 * placement, shift and peak; at most 1, nothing from outside the field)
 * into ctx_out (28*28): what lies around the piece. */
int dg_preprocess_map_context(const float *ink, int W, int H, const int box[4],
                              const dg_ink_context *ctx, float *out, float *ctx_out);

#endif
