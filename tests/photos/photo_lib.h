/* photo_lib.h: synthetic phone photos of handwritten digits on paper (the
 * photo test set of issue 18), rendered deterministically.
 *
 * Image k of condition c is a pure function of (c, k, seed): the same bytes
 * whether it is rendered alone (photo_gen --one), inside the full set, by a
 * test, on any x86-64 machine. Nothing here prints, exits or reads the
 * environment; every fallible call returns a digits status code (0 ok).
 *
 * How an image is made (docs/photos.md has every parameter):
 *   1. the digit: a MNIST *test* digit (t10k, never the training set),
 *      upscaled bicubically and cut at an anti-aliased iso-line so that it
 *      looks like pen ink, or one of the generator's own pen skeletons
 *      (2-3 variants per digit) with jitter, slant and pressure, drawn as an
 *      anti-aliased round-capped pen line; even k MNIST, odd k strokes;
 *   2. the paper: colour, texture, printed lines (ruled, squared, margin)
 *      and extra pen marks (a box, specks), all in paper coordinates;
 *   3. the camera: rotation and perspective (paper -> image homography),
 *      light (gradient, vignette, cast shadow), blur, sensor noise, and an
 *      encoder quality (JPEG 60-90, a few PNG) for whoever writes the file.
 * Each condition changes one of these on top of a mild baseline (white
 * paper, light noise, slight blur, JPEG q85-90, digit 40-60% of the frame
 * near the centre, 300-1000 px).
 *
 * Usage (a test comparing a photo with the same digit drawn cleanly):
 *     photo_set *s;  photo_set_open(&s, getenv("DIGITS_DATA"));
 *     int c = photo_cond_find("ruled");
 *     uint8_t *rgb, *ref;  photo_info a, b;
 *     photo_render(s, c, 3, PHOTO_SEED, &rgb, &a);        (a.w x a.h x 3)
 *     photo_render_clean(s, c, 3, PHOTO_SEED, &ref, &b);  (same size, box)
 *     ... dg_preprocess(rgb, a.w, a.h, 3, x) vs dg_preprocess(ref, ...) ...
 *     free(rgb); free(ref); photo_set_free(s);
 */
#ifndef PHOTO_LIB_H
#define PHOTO_LIB_H

#include <stdint.h>

/* The seed of the published set (photo_gen's default --seed). */
#define PHOTO_SEED 1u

/* The MNIST test digits the photos draw from. */
typedef struct photo_set photo_set;

/* Read t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz) from
 * dir. Only the test split is ever opened. */
int photo_set_open(photo_set **out, const char *dir);
/* The TRAINING split instead (train-images-idx3-ubyte ...): only for
 * making training data (photo_trainset), never for the test set. */
int photo_set_open_train(photo_set **out, const char *dir);
/* Free a set (NULL is fine). */
void photo_set_free(photo_set *s);

/* Conditions: 0 .. photo_cond_count()-1, in a fixed order (docs order). */
int photo_cond_count(void);
/* Name of condition c ("clean", "ruled", ...), or NULL when out of range. */
const char *photo_cond_name(int c);
/* Index of a condition by name, or -1. */
int photo_cond_find(const char *name);

/* What a rendered photo holds. */
typedef struct {
  int w, h;          /* image size in pixels; the buffer is (h, w, 3) RGB */
  int label;         /* the digit, 0-9 */
  int box[4];        /* the digit's ink in image pixels: x, y, w, h (pixels
                        whose digit ink coverage is at least one half) */
  int quality;       /* JPEG quality the set writes it with; 0 = PNG */
  char source[24];   /* "mnist:<t10k index>" or "stroke:<digit><variant>" */
} photo_info;

/* Render image k (k >= 0) of condition cond into a new RGB buffer (*rgb,
 * free() it) and fill info. seed selects the set (PHOTO_SEED for the
 * published one). s is needed for MNIST digits (even k). */
int photo_render(const photo_set *s, int cond, int k, uint64_t seed,
                 uint8_t **rgb, photo_info *info);

/* The same digit drawn cleanly: the same image size, glyph, stroke width,
 * pose (rotation, perspective, placement) and therefore the same box, but
 * black ink at full strength on pure white paper with no printed lines, no
 * extra marks, no light, texture, grain, blur or noise. What preprocessing
 * of photo_render's image should come close to. */
int photo_render_clean(const photo_set *s, int cond, int k, uint64_t seed,
                       uint8_t **rgb, photo_info *info);

/* Write an RGB buffer to path: PNG when path ends in .png, else JPEG at
 * quality (1-100; 0 means 90). Atomic (temporary file + rename). */
int photo_write(const char *path, const uint8_t *rgb, int w, int h,
                int quality);

/* Intersection over union of two boxes (x, y, w, h): 0 when they do not
 * overlap. A box read counts as the digit's when this is at least 0.5. */
double photo_box_iou(const int a[4], const int b[4]);

#endif
