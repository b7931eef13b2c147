/* gen_lib.h: writers of the bad (and odd but valid) inputs the robustness
 * tests feed to the program, made at test time instead of committed: PNG of
 * any size and bit depth (streamed, so a 20000x20000 picture is a small
 * file), an Adobe CMYK JPEG, idx files with any header, models. Shared by
 * robust_gen (the command the shell tests call), robust_sweep and the
 * fuzz seed writer. Buffers are malloc'd; free() them. */
#ifndef DG_GEN_LIB_H
#define DG_GEN_LIB_H

#include <stddef.h>
#include <stdint.h>

/* Pixel (x, y), channel k of a picture being written. Called with x = -1,
 * it returns a row key instead: rows with the same key >= 0 are identical
 * and are not asked for again (-1: always ask). */
typedef int (*gen_pixel_fn)(int x, int y, int k, void *user);

/* A PNG of w x h with color type (0 gray, 2 RGB, 4 gray+alpha, 6 RGBA) and
 * bit depth (1, 8 or 16; 1 only for gray); samples come from px, scaled
 * from 0..255 to the depth (16-bit: v * 257, 1-bit: v >= 128). Rows are
 * deflated one at a time, so memory stays small whatever the size. */
uint8_t *gen_png(int w, int h, int color, int depth, gen_pixel_fn px,
                 void *user, size_t *len);

/* A baseline JPEG of w x h (multiples of 8) with n components (1 gray,
 * 3 YCbCr, 4 CMYK with an Adobe APP14 marker saying "CMYK", stored inverted
 * the way Photoshop writes it: 255 = no ink). Each 8x8 block is flat (only
 * DC coefficients are coded): px is asked once per block, at its top-left
 * pixel. */
uint8_t *gen_jpeg(int w, int h, int n, gen_pixel_fn px, void *user,
                  size_t *len);

/* An idx file: magic 0x0000 08 ndims, the dims as given (any values), then
 * nbytes of data (data may be NULL: zeros). gz: gzip it. */
uint8_t *gen_idx(int ndims, const uint32_t *dims, const uint8_t *data,
                 size_t nbytes, int gz, size_t *len);

/* gzip of a buffer. */
uint8_t *gen_gzip(const uint8_t *p, size_t n, size_t *len);

/* A small model file of the given architecture, weights from seed. */
uint8_t *gen_model(const char *arch, uint64_t seed, size_t *len);

/* The 28x28 test digit i of the MNIST folder dir (t10k), ink = 255, and its
 * label; 0 on success. */
int gen_mnist_digit(const char *dir, int i, uint8_t px[784], int *label);

/* A copy of buf with the float at byte offset `at` of the data section of
 * a model file replaced by bits (NaN, infinity): at counts from the start of
 * the tensor data (after the header). */
uint8_t *gen_model_poke(const uint8_t *buf, size_t len, size_t at,
                        uint32_t bits);

/* Write a buffer to a file (not atomic: test inputs only); 0 on success. */
int gen_write(const char *path, const void *buf, size_t len);

#endif
