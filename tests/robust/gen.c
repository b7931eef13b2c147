/* gen.c: robust_gen, the command the robustness tests call to make their
 * inputs at test time (see gen_lib.h), and the writer of the fuzz seed
 * corpora (tests/fuzz/corpus/, committed; `robust_gen seeds DIR` rewrites
 * them).
 *
 *   robust_gen png OUT W H COLOR DEPTH [DATA INDEX]   COLOR 0|2|4|6, DEPTH 1|8|16
 *   robust_gen jpeg OUT W H N [DATA INDEX]            N 1 gray|3 YCbCr|4 CMYK
 *   robust_gen idx OUT NDIMS DIM... NBYTES [gz]       any header values
 *   robust_gen model OUT ARCH [SEED]
 *   robust_gen poke IN OUT OFFSET nan|inf|-inf        a weight made non-finite
 *   robust_gen label DATA INDEX                       prints the test label
 *   robust_gen seeds DIR                              fuzz seeds into DIR/<target>/
 *
 * With DATA INDEX a picture shows MNIST test digit INDEX of the folder DATA
 * stretched over the whole picture as dark ink on white paper (CMYK: black
 * ink, K channel); without, it is blank white paper. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digits.h"
#include "gen_lib.h"
#include "stb_image_write.h" /* declarations; the implementation is image.c */

typedef struct {
  int w, h;
  const uint8_t *digit; /* 28x28, ink = 255, or NULL */
  int kind;             /* 'p' PNG (channel k of color), 'y' JPEG YCbCr, 'k' CMYK */
  int channels;
} picture;

static int ink_at(const picture *p, int x, int y) {
  if (!p->digit) return 0;
  int dx = (int)((long long)x * 28 / p->w), dy = (int)((long long)y * 28 / p->h);
  return p->digit[dy * 28 + dx];
}

static int pixel(int x, int y, int k, void *user) {
  const picture *p = user;
  if (x < 0) return p->digit ? (int)((long long)y * 28 / p->h) : 0; /* row key */
  int ink = ink_at(p, x, y);
  switch (p->kind) {
    case 'y': return k == 0 ? 255 - ink : 128;
    case 'k': return k < 3 ? 255 : 255 - ink;   /* inverted, as Adobe stores it */
    default:
      if ((p->channels == 2 && k == 1) || (p->channels == 4 && k == 3)) return 255;
      return 255 - ink;
  }
}

static int die(const char *msg) {
  fprintf(stderr, "robust_gen: %s\n", msg);
  return 1;
}

/* n is read after b is made (argument order is unspecified) */
static int out(const char *path, uint8_t *b, const size_t *n) {
  if (!b) return die("could not build the file");
  int rc = gen_write(path, b, *n);
  free(b);
  if (rc) {
    fprintf(stderr, "robust_gen: %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

static int load_digit(int argc, char **argv, int at, uint8_t px[784]) {
  if (argc <= at + 1) return 0;
  int label;
  if (gen_mnist_digit(argv[at], atoi(argv[at + 1]), px, &label)) return -1;
  return 1;
}

/* ---- fuzz seeds ------------------------------------------------------------------ */

static void seed(const char *dir, const char *target, const char *name,
                 uint8_t *b, size_t n) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, target);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
  if (!b || gen_write(path, b, n)) fprintf(stderr, "robust_gen: cannot write %s\n", path);
  free(b);
}

/* seed() with a buffer made by a gen_* call that sets n (evaluated first) */
#define SEED(target, name, call)      \
  do {                                \
    uint8_t *b_ = (call);             \
    seed(dir, target, name, b_, n);   \
  } while (0)

typedef struct {
  uint8_t *p;
  size_t n;
} mem;

static void mem_put(void *ctx, void *data, int size) {
  mem *m = ctx;
  uint8_t *p = realloc(m->p, m->n + (size_t)size);
  if (!p) return;
  memcpy(p + m->n, data, (size_t)size);
  m->p = p, m->n += (size_t)size;
}

/* A model file of a 1x1 -> 2 dense net from its tensor entries (the
 * header's text after the metadata) and data bytes. */
static void raw_model(const char *dir, const char *name, const char *entries,
                      const uint8_t *data, size_t dlen) {
  char h[512];
  size_t hl = (size_t)snprintf(h, sizeof h,
                               "{\"__metadata__\":{\"format\":\"digits\",\"format_version\":"
                               "\"1\",\"arch\":\"input 1 1 1; flatten; dense 2\"},%s", entries);
  size_t pad = (8 - hl % 8) % 8, total = 8 + hl + pad + dlen;
  uint8_t *b = calloc(total, 1);
  if (b) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((hl + pad) >> (8 * i));
    memcpy(b + 8, h, hl);
    memset(b + 8 + hl, ' ', pad);
    memcpy(b + 8 + hl + pad, data, dlen);
  }
  seed(dir, "model", name, b, total);
}

static int seeds(const char *dir) {
  mkdir(dir, 0755);
  size_t n;
  /* model files: tiny nets of every layer kind, F16, a checkpoint with
   * blobs, metadata with escapes */
  const char *archs[][2] = {
      {"dense", "input 2 2 1; flatten; dense 3; softmax"},
      {"conv", "input 6 6 1; conv 2 3 same; bn; relu; maxpool 2; flatten; dense 3; softmax"},
      {"valid", "input 5 5 2; conv 1 2 valid; avgpool 2; sigmoid; flatten; dropout 0.5; "
                "dense 2; tanh; dense 2"},
  };
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.safetensors", archs[i][0]);
    SEED("model", name, gen_model(archs[i][1], 1, &n));
  }
  {
    dg_net *net = NULL;
    if (dg_net_new(&net, archs[0][1], 2) == DG_OK) {
      dg_net_meta_set(net, "note", "caf\xc3\xa9 \"quoted\" \\ back\nline\x01");
      dg_net_meta_set(net, "history", "[1,2]");
      float m[3] = {1.5f, -2.25f, 0}, v[1] = {3};
      dg_blob ex[2] = {{"__adam.m", m, 3}, {"__adam.v", v, 1}};
      uint8_t *b = NULL;
      if (dg_model_save_mem(net, ex, 2, &b, &n) == DG_OK)
        seed(dir, "model", "checkpoint.safetensors", b, n);
      dg_net_free(net);
    }
  }
  /* F16 and I8 (with its scales): the dense seed's tensors written by hand */
  static const uint8_t halves[8] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b};
  raw_model(dir, "f16.safetensors",
            "\"dense1.weight\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[0,4]},"
            "\"dense1.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}",
            halves, sizeof halves);
  static const uint8_t i8[14] = {0x81, 0x7f, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x80, 0x3e,
                                 0x00, 0x3c, 0x00, 0xc0};  /* -127, 127; 1/128, 0.25; 1, -2 */
  raw_model(dir, "i8.safetensors",
            "\"dense1.weight\":{\"dtype\":\"I8\",\"shape\":[1,2],\"data_offsets\":[0,2]},"
            "\"dense1.weight.scale\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]},"
            "\"dense1.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[10,14]}}",
            i8, sizeof i8);
  /* idx: labels and images, raw and gzip, and a wrong magic */
  {
    uint8_t lab[5] = {0, 1, 2, 9, 4}, img[2 * 3 * 4];
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 11);
    uint32_t ld[1] = {5}, id[3] = {2, 3, 4};
    SEED("idx", "labels.idx1", gen_idx(1, ld, lab, 5, 0, &n));
    SEED("idx", "labels.idx1.gz", gen_idx(1, ld, lab, 5, 1, &n));
    SEED("idx", "images.idx3", gen_idx(3, id, img, sizeof img, 0, &n));
    SEED("idx", "images.idx3.gz", gen_idx(3, id, img, sizeof img, 1, &n));
    uint32_t big[3] = {1, 28, 28};
    SEED("idx", "digit28.idx3.gz", gen_idx(3, big, NULL, 784, 1, &n));
    uint8_t *b = gen_idx(1, ld, lab, 5, 0, &n);
    if (b) b[2] = 0x0D; /* float elements: unsupported type */
    seed(dir, "idx", "float-type.idx1", b, n);
  }
  /* images: a small digit-like picture in every format and layout */
  {
    uint8_t digit[784] = {0};
    for (int y = 6; y < 22; y++)
      for (int x = 12; x < 16; x++) digit[y * 28 + x] = 255;
    for (int x = 8; x < 20; x++) digit[6 * 28 + x] = 255;
    picture p = {16, 16, digit, 'p', 1};
    SEED("image", "gray8.png", gen_png(16, 16, 0, 8, pixel, &p, &n));
    SEED("image", "gray1.png", gen_png(16, 16, 0, 1, pixel, &p, &n));
    p.channels = 2;
    SEED("image", "gray-alpha16.png", gen_png(12, 9, 4, 16, pixel, &p, &n));
    p.channels = 3;
    SEED("image", "rgb8.png", gen_png(9, 12, 2, 8, pixel, &p, &n));
    p.channels = 4;
    SEED("image", "rgba16.png", gen_png(8, 8, 6, 16, pixel, &p, &n));
    p.kind = 'k';
    SEED("image", "cmyk.jpg", gen_jpeg(16, 16, 4, pixel, &p, &n));
    p.kind = 'y';
    SEED("image", "ycbcr-flat.jpg", gen_jpeg(16, 8, 3, pixel, &p, &n));
    p.kind = 'p';
    SEED("image", "gray-flat.jpg", gen_jpeg(8, 16, 1, pixel, &p, &n));
    /* stb_image_write's encoders: a real DCT JPEG, BMP 24/32, TGA is not read */
    uint8_t rgb[16 * 16 * 4];
    for (int i = 0; i < 16 * 16; i++)
      for (int k = 0; k < 4; k++) rgb[i * 4 + k] = (uint8_t)(k == 3 ? 200 : 255 - digit[(i / 16) * 28 + i % 16]);
    mem m = {0};
    stbi_write_jpg_to_func(mem_put, &m, 16, 16, 3, rgb, 90);
    seed(dir, "image", "stbiw.jpg", m.p, m.n);
    m = (mem){0};
    stbi_write_bmp_to_func(mem_put, &m, 16, 16, 3, rgb);
    seed(dir, "image", "rgb.bmp", m.p, m.n);
    m = (mem){0};
    stbi_write_bmp_to_func(mem_put, &m, 7, 5, 4, rgb);
    seed(dir, "image", "rgba.bmp", m.p, m.n);
    /* PGM, PPM, 16-bit PGM by hand */
    const char *pgm_head = "P5\n# a comment\n6 4\n255\n";
    size_t hl = strlen(pgm_head);
    uint8_t *b = malloc(hl + 24);
    if (b) {
      memcpy(b, pgm_head, hl);
      for (int i = 0; i < 24; i++) b[hl + i] = (uint8_t)(i % 6 == 2 ? 0 : 250);
      seed(dir, "image", "gray.pgm", b, hl + 24);
    }
    const char *ppm_head = "P6 3 2 255\n";
    hl = strlen(ppm_head);
    b = malloc(hl + 18);
    if (b) {
      memcpy(b, ppm_head, hl);
      for (int i = 0; i < 18; i++) b[hl + i] = (uint8_t)(i * 13);
      seed(dir, "image", "rgb.ppm", b, hl + 18);
    }
    const char *p16_head = "P5\n2 2\n65535\n";
    hl = strlen(p16_head);
    b = malloc(hl + 8);
    if (b) {
      memcpy(b, p16_head, hl);
      static const uint8_t v[8] = {0xff, 0xff, 0x00, 0x00, 0x80, 0x00, 0x12, 0x34};
      memcpy(b + hl, v, 8);
      seed(dir, "image", "gray16.pgm", b, hl + 8);
    }
  }
  /* preprocess: [channels-1, width lo, width hi] + rows of pixels */
  {
    static const struct {
      const char *name;
      int c, w, h, ink;
    } pp[] = {{"rgba-stroke", 4, 20, 20, 1}, {"gray-stroke", 1, 28, 28, 1},
              {"gray-blank", 1, 7, 3, 0}, {"ga-wide", 2, 300, 2, 1},
              {"rgb-tall", 3, 1, 40, 1}};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++) {
      size_t len = 3 + (size_t)pp[i].w * pp[i].h * pp[i].c;
      uint8_t *b = malloc(len);
      if (!b) continue;
      b[0] = (uint8_t)(pp[i].c - 1);
      b[1] = (uint8_t)((pp[i].w - 1) & 0xff);
      b[2] = (uint8_t)((pp[i].w - 1) >> 8);
      for (int y = 0; y < pp[i].h; y++)
        for (int x = 0; x < pp[i].w; x++)
          for (int k = 0; k < pp[i].c; k++) {
            int ink = pp[i].ink && (x == pp[i].w / 2 || y == pp[i].h / 3);
            uint8_t v;
            if (pp[i].c == 4) v = k == 3 ? (ink ? 255 : 0) : 0; /* canvas: ink on transparent */
            else if (pp[i].c == 2 && k == 1) v = 255;
            else v = ink ? 20 : 240;
            b[3 + ((size_t)y * pp[i].w + x) * pp[i].c + k] = v;
          }
      seed(dir, "preprocess", pp[i].name, b, len);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return die("usage: see the comment at the top of tests/robust/gen.c");
  const char *cmd = argv[1];
  size_t n = 0;
  uint8_t digit[784];
  if (!strcmp(cmd, "png") && argc >= 7) {
    int has = load_digit(argc, argv, 7, digit);
    if (has < 0) return die("cannot read the MNIST test digit");
    int color = atoi(argv[5]);
    picture p = {atoi(argv[3]), atoi(argv[4]), has ? digit : NULL, 'p',
                 color == 0 ? 1 : color == 2 ? 3 : color == 4 ? 2 : 4};
    return out(argv[2], gen_png(p.w, p.h, color, atoi(argv[6]), pixel, &p, &n), &n);
  }
  if (!strcmp(cmd, "jpeg") && argc >= 6) {
    int has = load_digit(argc, argv, 6, digit);
    if (has < 0) return die("cannot read the MNIST test digit");
    int comps = atoi(argv[5]);
    picture p = {atoi(argv[3]), atoi(argv[4]), has ? digit : NULL,
                 comps == 4 ? 'k' : comps == 3 ? 'y' : 'p', 1};
    return out(argv[2], gen_jpeg(p.w, p.h, comps, pixel, &p, &n), &n);
  }
  if (!strcmp(cmd, "idx") && argc >= 5) {
    int nd = atoi(argv[3]);
    if (nd < 1 || nd > 3 || argc < 5 + nd) return die("idx: NDIMS DIM... NBYTES [gz]");
    uint32_t dims[3];
    for (int i = 0; i < nd; i++) dims[i] = (uint32_t)strtoul(argv[4 + i], NULL, 0);
    size_t nb = (size_t)strtoull(argv[4 + nd], NULL, 0);
    int gz = argc > 5 + nd && !strcmp(argv[5 + nd], "gz");
    return out(argv[2], gen_idx(nd, dims, NULL, nb, gz, &n), &n);
  }
  if (!strcmp(cmd, "model") && argc >= 4) {
    uint8_t *b = gen_model(argv[3], argc > 4 ? strtoull(argv[4], NULL, 10) : 1, &n);
    if (!b) fprintf(stderr, "robust_gen: %s\n", dg_last_error());
    return out(argv[2], b, &n);
  }
  if (!strcmp(cmd, "poke") && argc >= 6) {
    uint8_t *in = NULL;
    size_t len = 0;
    if (dg_file_read(argv[2], (size_t)1 << 30, &in, &len)) return die(dg_last_error());
    uint32_t bits = !strcmp(argv[5], "nan") ? 0x7fc00000u
                    : !strcmp(argv[5], "inf") ? 0x7f800000u : 0xff800000u;
    uint8_t *b = gen_model_poke(in, len, (size_t)strtoull(argv[4], NULL, 0), bits);
    free(in);
    return out(argv[3], b, &len);
  }
  if (!strcmp(cmd, "label") && argc >= 4) {
    int label;
    if (gen_mnist_digit(argv[2], atoi(argv[3]), digit, &label))
      return die("cannot read the MNIST test digit");
    printf("%d\n", label);
    return 0;
  }
  if (!strcmp(cmd, "seeds") && argc >= 3) return seeds(argv[2]);
  return die("unknown command or missing arguments (see tests/robust/gen.c)");
}
