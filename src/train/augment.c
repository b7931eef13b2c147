/* augment.c: random distortions of training images, in the spirit of Keras'
 * ImageDataGenerator: one affine warp (rotation, zoom, shift, shear combined
 * into a single 2x3 matrix about the image centre, bilinear sampling, zero
 * outside) and an optional stroke thickness change (soft grayscale
 * dilation or erosion by a radius of up to o->thickness pixels, so strokes
 * change width by up to twice that).
 *
 * Every call draws the same number of random numbers (7) whatever the
 * options, so a seed gives the same sequence of images on every target.
 * Images are ink = 1 on background 0, as the datasets and dg_preprocess
 * produce them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

/* thickness scratch for images up to this many pixels lives on the stack */
#define AUG_STACK_PIXELS 4096
/* largest thickness radius, px */
#define MORPH_MAX_R 8

dg_augment_opts dg_augment_default(void) {
  dg_augment_opts o = {10.0f, 0.1f, 0.1f, 0.1f, 0.0f};
  return o;
}

/* uniform in [-r, r] */
static float sym(dg_rng *rng, float r) {
  return (2.0f * dg_rng_uniform(rng) - 1.0f) * r;
}

/* Soft dilation by radius r (0 <= r <= MORPH_MAX_R) in pixels: each
 * neighbour at distance d counts with weight clamp(r + 1 - d, 0, 1), so
 * r = 0 is the identity and the result grows continuously with r. With
 * erode, the same on the paper (1 - ink): strokes get thinner. Outside the
 * image is paper. */
static void soft_morph(const float *in, float *out, int h, int w, float r,
                       int erode) {
  float wt[(2 * MORPH_MAX_R + 1) * (2 * MORPH_MAX_R + 1)];  /* (2R+1, 2R+1) */
  if (r > MORPH_MAX_R) r = MORPH_MAX_R;
  const int R = (int)ceilf(r), K = 2 * R + 1;
  for (int dy = -R; dy <= R; dy++)
    for (int dx = -R; dx <= R; dx++) {
      float v = r + 1.0f - sqrtf((float)(dx * dx + dy * dy));
      wt[(dy + R) * K + dx + R] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  if (!erode) {
    /* dilation, as a splat from the ink pixels (most pixels are paper) */
    memcpy(out, in, (size_t)h * w * sizeof(float));
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float v = in[y * w + x];
        if (v <= 0) continue;
        for (int dy = -R; dy <= R; dy++) {
          int sy = y + dy;
          if (sy < 0 || sy >= h) continue;
          for (int dx = -R; dx <= R; dx++) {
            int sx = x + dx;
            if (sx < 0 || sx >= w) continue;
            float c = v * wt[(dy + R) * K + dx + R];
            if (c > out[sy * w + sx]) out[sy * w + sx] = c;
          }
        }
      }
    return;
  }
  /* erosion: 1 - dilation of the paper; outside the image is paper, and a
   * paper pixel stays paper, so only ink pixels need work */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float best = 1.0f - in[y * w + x];
      for (int dy = -R; dy <= R && best < 1.0f; dy++) {
        int sy = y + dy;
        for (int dx = -R; dx <= R; dx++) {
          float k = wt[(dy + R) * K + dx + R];
          if (k <= best) continue;  /* cannot beat the current best */
          int sx = x + dx;
          float v = sx < 0 || sy < 0 || sx >= w || sy >= h
                        ? 1.0f
                        : 1.0f - in[sy * w + sx];
          v *= k;
          if (v > best) best = v;
        }
      }
      out[y * w + x] = 1.0f - best;
    }
}

void dg_augment(const float *in, float *out, int h, int w,
                const dg_augment_opts *o, dg_rng *rng) {
  if (!in || !out || !o || !rng || h < 1 || w < 1) return;
  const size_t n = (size_t)h * w;

  /* draw everything first, always seven numbers: rotation, zoom x, zoom y,
   * shift x, shift y, shear, thickness */
  float rot = sym(rng, o->rotate_deg) * 0.017453292519943295f;
  float zx = 1.0f + sym(rng, o->zoom), zy = 1.0f + sym(rng, o->zoom);
  float tx = sym(rng, o->shift) * w, ty = sym(rng, o->shift) * h;
  float shear = sym(rng, o->shear);
  float thick = sym(rng, o->thickness);
  if (zx < 0.05f) zx = 0.05f;
  if (zy < 0.05f) zy = 0.05f;

  /* optional stroke thickness first, into scratch (or straight to out when
   * there is no warp to do afterwards) */
  const float *src = in;
  float stack_buf[AUG_STACK_PIXELS];  /* (h, w) when small */
  float *heap_buf = NULL;
  if (fabsf(thick) > 1e-3f) {
    float *tmp = stack_buf;
    if (n > AUG_STACK_PIXELS) tmp = heap_buf = malloc(n * sizeof(float));
    /* large images without memory: skip the thickness change, keep the
     * warp (dg_augment cannot fail) */
    if (tmp) {
      soft_morph(in, tmp, h, w, fabsf(thick), thick < 0);
      src = tmp;
    }
  }

  if (rot == 0 && zx == 1 && zy == 1 && tx == 0 && ty == 0 && shear == 0) {
    memcpy(out, src, n * sizeof(float));
    free(heap_buf);
    return;
  }

  /* Forward map about the centre c: p' = c + t + R * Sh * Z * (p - c),
   * with Z = diag(zx, zy), Sh = [[1, shear], [0, 1]], R the rotation.
   * Sampling needs the inverse: p = c + A^-1 (p' - c - t). */
  float cr = cosf(rot), sr = sinf(rot);
  /* A = R * Sh * Z */
  float a00 = cr * zx, a01 = (cr * shear - sr) * zy;
  float a10 = sr * zx, a11 = (sr * shear + cr) * zy;
  float det = a00 * a11 - a01 * a10;
  float i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det;
  float cx = 0.5f * (w - 1), cy = 0.5f * (h - 1);
  for (int y = 0; y < h; y++) {
    float qy = y - cy - ty;
    for (int x = 0; x < w; x++) {
      float qx = x - cx - tx;
      float sx = cx + i00 * qx + i01 * qy;
      float sy = cy + i10 * qx + i11 * qy;
      float v = 0;
      if (sx > -1 && sy > -1 && sx < w && sy < h) {
        int ix = (int)floorf(sx), iy = (int)floorf(sy);
        float fx = sx - ix, fy = sy - iy;
        float p00 = 0, p01 = 0, p10 = 0, p11 = 0;
        int in_x0 = ix >= 0, in_x1 = ix + 1 < w;
        if (iy >= 0) {
          const float *r0 = src + (size_t)iy * w;
          if (in_x0) p00 = r0[ix];
          if (in_x1) p01 = r0[ix + 1];
        }
        if (iy + 1 < h) {
          const float *r1 = src + (size_t)(iy + 1) * w;
          if (in_x0) p10 = r1[ix];
          if (in_x1) p11 = r1[ix + 1];
        }
        v = (p00 * (1 - fx) + p01 * fx) * (1 - fy) +
            (p10 * (1 - fx) + p11 * fx) * fy;
        if (v < 0) v = 0;
        if (v > 1) v = 1;
      }
      out[(size_t)y * w + x] = v;
    }
  }
  free(heap_buf);
}
