/* rng.c: a small, fast, seedable generator (xorshift128+), with its state
 * passed in so that runs are reproducible and nothing is global. */
#include <math.h>

#include "digits.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void dg_rng_seed(dg_rng *r, uint64_t seed) {
  uint64_t x = seed;
  r->s[0] = splitmix64(&x);
  r->s[1] = splitmix64(&x);
  if (!r->s[0] && !r->s[1]) r->s[1] = 1;
}

static uint64_t next64(dg_rng *r) {
  uint64_t s1 = r->s[0];
  const uint64_t s0 = r->s[1];
  const uint64_t result = s0 + s1;
  r->s[0] = s0;
  s1 ^= s1 << 23;
  r->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
  return result;
}

uint32_t dg_rng_u32(dg_rng *r) { return (uint32_t)(next64(r) >> 32); }

float dg_rng_uniform(dg_rng *r) {
  return (float)(dg_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float dg_rng_normal(dg_rng *r) {
  float u1 = dg_rng_uniform(r), u2 = dg_rng_uniform(r);
  if (u1 < 1e-12f) u1 = 1e-12f;
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

uint32_t dg_rng_below(dg_rng *r, uint32_t n) {
  /* multiply-shift: unbiased enough for shuffling (bias < 2^-32 * n) */
  return (uint32_t)(((uint64_t)dg_rng_u32(r) * n) >> 32);
}
