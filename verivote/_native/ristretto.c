/* ristretto255 over edwards25519 for verivote's verifier: field arithmetic modulo
 * p = 2^255 - 19, the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 in extended
 * coordinates, the ristretto255 encoding of RFC 9496 and multi-scalar multiplication.
 *
 * VERIFICATION ONLY: VARIABLE TIME. Branches and memory accesses depend on the data.
 * That is harmless for public inputs (everything a verifier sees) and fatal for secrets;
 * verivote never passes a secret here (encryption, key generation and proving use
 * libsodium's constant-time code). Results equal libsodium's exactly: elements are
 * compared through their canonical encodings, and the tests check this differentially.
 *
 * References: RFC 9496 (ristretto255: SQRT_RATIO_M1, DECODE, ENCODE, MAP); Hisil, Wong,
 * Carter and Dawson, "Twisted Edwards curves revisited" (2008) for the extended-
 * coordinate addition and doubling; Pippenger's bucket method as described by Bernstein
 * et al., "Faster batch forgery identification" (2012).
 */
#include "ristretto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- field elements: five 51-bit limbs, value = sum f[i] * 2^(51 i) --------------------
 * Invariant between operations: every limb is below 2^52 (after fe_carry limbs 1..4 are
 * below 2^51 and limb 0 below 2^51 + 2^18). fe_mul accepts limbs below 2^54. */
typedef uint64_t fe[5];
typedef unsigned __int128 u128;
#define MASK51 ((((uint64_t)1) << 51) - 1)

static const fe FE_ZERO = {0, 0, 0, 0, 0};
static const fe FE_ONE = {1, 0, 0, 0, 0};
/* Curve constants of RFC 9496, section 4.1, as limbs (d = -121665/121666; 2d; sqrt(-1);
 * 1/sqrt(a-d); sqrt(a*d-1); 1-d^2; (d-1)^2, with a = -1). RFC 9496's test vectors
 * (tests/test_ristretto.py) go through every function that uses them. */
static const fe D = {0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL,
                     0x739c663a03cbbULL, 0x52036cee2b6ffULL};
static const fe D2 = {0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                      0x6738cc7407977ULL, 0x2406d9dc56dffULL};
static const fe SQRT_M1 = {0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                           0x78595a6804c9eULL, 0x2b8324804fc1dULL};
static const fe INVSQRT_A_MINUS_D = {0xfdaa805d40eaULL, 0x2eb482e57d339ULL, 0x7610274bc58ULL,
                                     0x6510b613dc8ffULL, 0x786c8905cfaffULL};
static const fe SQRT_AD_MINUS_ONE = {0x7f6a0497b2e1bULL, 0x1836f0a97afd2ULL,
                                     0x7d747f6be7638ULL, 0x456079e7e6498ULL,
                                     0x376931bf2b834ULL};
static const fe ONE_MINUS_D_SQ = {0x409c1945fc176ULL, 0x719abc6a1fc4fULL, 0x1c37f90b20684ULL,
                                  0x6bccca55eedfULL, 0x29072a8b2b3eULL};
static const fe D_MINUS_ONE_SQ = {0x55aaa44ed4d20ULL, 0x59603c3332635ULL,
                                  0x26d3baf4a7928ULL, 0x120a66e6997a9ULL,
                                  0x5968b37af66c2ULL};

static void fe_copy(fe h, const fe f) { memcpy(h, f, sizeof(fe)); }

/* Propagate carries so that limbs 1..4 are below 2^51; the carry out of limb 4 is worth
 * 2^255 = 19 (mod p) and goes back into limb 0. */
static void fe_carry(fe h) {
    uint64_t c;
    c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
    c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
    c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
    c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
    c = h[4] >> 51; h[4] &= MASK51; h[0] += 19 * c;
}

static void fe_add(fe h, const fe f, const fe g) {
    for (int i = 0; i < 5; i++) h[i] = f[i] + g[i];
    fe_carry(h);
}

/* f - g computed as f + 4p - g so that no limb goes negative (g's limbs are < 2^52). */
static void fe_sub(fe h, const fe f, const fe g) {
    h[0] = f[0] + 0x1FFFFFFFFFFFB4ULL - g[0]; /* 4 * (2^51 - 19) */
    for (int i = 1; i < 5; i++) h[i] = f[i] + 0x1FFFFFFFFFFFFCULL - g[i]; /* 4 * (2^51 - 1) */
    fe_carry(h);
}

static void fe_neg(fe h, const fe f) { fe_sub(h, FE_ZERO, f); }

/* Carry five 128-bit column sums (each below 2^115) into limbs below 2^52. */
static void fe_reduce(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t c = (uint64_t)(r4 >> 51);
    h[0] = ((uint64_t)r0 & MASK51) + 19 * c;
    h[1] = ((uint64_t)r1 & MASK51) + (h[0] >> 51);
    h[0] &= MASK51;
    h[2] = (uint64_t)r2 & MASK51;
    h[3] = (uint64_t)r3 & MASK51;
    h[4] = (uint64_t)r4 & MASK51;
}

/* Schoolbook product; a limb product landing at 2^(51 k) with k >= 5 is folded back
 * multiplied by 19, since 2^255 = 19 (mod p). */
static void fe_mul(fe h, const fe f, const fe g) {
    uint64_t g1 = 19 * g[1], g2 = 19 * g[2], g3 = 19 * g[3], g4 = 19 * g[4];
    u128 r0 = (u128)f[0] * g[0] + (u128)f[1] * g4 + (u128)f[2] * g3 + (u128)f[3] * g2 +
              (u128)f[4] * g1;
    u128 r1 = (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4 + (u128)f[3] * g3 +
              (u128)f[4] * g2;
    u128 r2 = (u128)f[0] * g[2] + (u128)f[1] * g[1] + (u128)f[2] * g[0] + (u128)f[3] * g4 +
              (u128)f[4] * g3;
    u128 r3 = (u128)f[0] * g[3] + (u128)f[1] * g[2] + (u128)f[2] * g[1] + (u128)f[3] * g[0] +
              (u128)f[4] * g4;
    u128 r4 = (u128)f[0] * g[4] + (u128)f[1] * g[3] + (u128)f[2] * g[2] + (u128)f[3] * g[1] +
              (u128)f[4] * g[0];
    fe_reduce(h, r0, r1, r2, r3, r4);
}

/* h = f^2: the products f_i f_j with i != j appear twice, so 15 multiplications
 * instead of 25 (limbs below 2^52 keep 38 f_i f_j below 2^110). */
static void fe_sq(fe h, const fe f) {
    uint64_t f0_2 = 2 * f[0], f1_2 = 2 * f[1];
    uint64_t f1_38 = 38 * f[1], f2_38 = 38 * f[2], f3_38 = 38 * f[3];
    uint64_t f3_19 = 19 * f[3], f4_19 = 19 * f[4];
    u128 r0 = (u128)f[0] * f[0] + (u128)f1_38 * f[4] + (u128)f2_38 * f[3];
    u128 r1 = (u128)f0_2 * f[1] + (u128)f2_38 * f[4] + (u128)f3_19 * f[3];
    u128 r2 = (u128)f0_2 * f[2] + (u128)f[1] * f[1] + (u128)f3_38 * f[4];
    u128 r3 = (u128)f0_2 * f[3] + (u128)f1_2 * f[2] + (u128)f4_19 * f[4];
    u128 r4 = (u128)f0_2 * f[4] + (u128)f1_2 * f[3] + (u128)f[2] * f[2];
    fe_reduce(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n) */
static void fe_sqn(fe h, const fe f, int n) {
    fe_sq(h, f);
    for (int i = 1; i < n; i++) fe_sq(h, h);
}

/* The 255 low bits of 32 little-endian bytes (bit 255 is ignored; the value may be
 * >= p: callers that need canonical input compare with fe_tobytes). */
static void fe_frombytes(fe h, const unsigned char s[32]) {
    uint64_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = 0;
        for (int j = 7; j >= 0; j--) w[i] = (w[i] << 8) | s[8 * i + j];
    }
    h[0] = w[0] & MASK51;
    h[1] = ((w[0] >> 51) | (w[1] << 13)) & MASK51;
    h[2] = ((w[1] >> 38) | (w[2] << 26)) & MASK51;
    h[3] = ((w[2] >> 25) | (w[3] << 39)) & MASK51;
    h[4] = (w[3] >> 12) & MASK51;
}

/* The canonical (fully reduced, < p) little-endian encoding of f. */
static void fe_tobytes(unsigned char s[32], const fe f) {
    fe t;
    fe_copy(t, f);
    fe_carry(t);
    fe_carry(t); /* now t < 2^255 + 2^18 < 2p */
    /* q = 1 exactly when t >= p, i.e. when t + 19 reaches 2^255 */
    uint64_t q = (t[0] + 19) >> 51;
    q = (t[1] + q) >> 51;
    q = (t[2] + q) >> 51;
    q = (t[3] + q) >> 51;
    q = (t[4] + q) >> 51;
    t[0] += 19 * q; /* add 19 q, then drop bit 255: subtracts q p */
    t[1] += t[0] >> 51; t[0] &= MASK51;
    t[2] += t[1] >> 51; t[1] &= MASK51;
    t[3] += t[2] >> 51; t[2] &= MASK51;
    t[4] += t[3] >> 51; t[3] &= MASK51;
    t[4] &= MASK51;
    uint64_t w[4] = {t[0] | (t[1] << 51), (t[1] >> 13) | (t[2] << 38),
                     (t[2] >> 26) | (t[3] << 25), (t[3] >> 39) | (t[4] << 12)};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) s[8 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

static int fe_iszero(const fe f) {
    unsigned char s[32];
    fe_tobytes(s, f);
    unsigned char acc = 0;
    for (int i = 0; i < 32; i++) acc |= s[i];
    return acc == 0;
}

static int fe_eq(const fe f, const fe g) {
    unsigned char a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

/* RFC 9496's IS_NEGATIVE: the least significant bit of the canonical encoding. */
static int fe_isneg(const fe f) {
    unsigned char s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static void fe_abs(fe h, const fe f) {
    if (fe_isneg(f)) fe_neg(h, f);
    else fe_copy(h, f);
}

/* h = f^((p-5)/8) = f^(2^252 - 3), by an addition chain through f^(2^k - 1). */
static void fe_pow22523(fe h, const fe f) {
    fe t0, t1, t2, t3;
    fe_sq(t0, f);            /* 2 */
    fe_sqn(t1, t0, 2);       /* 8 */
    fe_mul(t1, f, t1);       /* 9 */
    fe_mul(t0, t0, t1);      /* 11 */
    fe_sq(t0, t0);           /* 22 */
    fe_mul(t0, t1, t0);      /* 31 = 2^5 - 1 */
    fe_sqn(t1, t0, 5);
    fe_mul(t1, t1, t0);      /* 2^10 - 1 */
    fe_sqn(t2, t1, 10);
    fe_mul(t2, t2, t1);      /* 2^20 - 1 */
    fe_sqn(t3, t2, 20);
    fe_mul(t3, t3, t2);      /* 2^40 - 1 */
    fe_sqn(t3, t3, 10);
    fe_mul(t3, t3, t1);      /* 2^50 - 1 */
    fe_sqn(t2, t3, 50);
    fe_mul(t2, t2, t3);      /* 2^100 - 1 */
    fe_sqn(t1, t2, 100);
    fe_mul(t1, t1, t2);      /* 2^200 - 1 */
    fe_sqn(t1, t1, 50);
    fe_mul(t1, t1, t3);      /* 2^250 - 1 */
    fe_sqn(t1, t1, 2);       /* 2^252 - 4 */
    fe_mul(h, t1, f);        /* 2^252 - 3 */
}

/* RFC 9496 SQRT_RATIO_M1: r = the non-negative sqrt(u/v) and 1 if u/v is a square;
 * otherwise r = the non-negative sqrt(i u/v) and 0 (and r = 0, result 1 when u = 0). */
static int sqrt_ratio_m1(fe r, const fe u, const fe v) {
    fe v3, v7, t, check, u_neg, u_neg_i;
    fe_sq(v3, v);
    fe_mul(v3, v3, v);       /* v^3 */
    fe_sq(v7, v3);
    fe_mul(v7, v7, v);       /* v^7 */
    fe_mul(t, u, v7);
    fe_pow22523(t, t);       /* (u v^7)^((p-5)/8) */
    fe_mul(r, u, v3);
    fe_mul(r, r, t);
    fe_sq(check, r);
    fe_mul(check, check, v);
    fe_neg(u_neg, u);
    fe_mul(u_neg_i, u_neg, SQRT_M1);
    int correct = fe_eq(check, u);
    int flipped = fe_eq(check, u_neg);
    int flipped_i = fe_eq(check, u_neg_i);
    if (flipped || flipped_i) fe_mul(r, r, SQRT_M1);
    fe_abs(r, r);
    return correct || flipped;
}

/* ---- points in extended coordinates: x = X/Z, y = Y/Z, x y = T/Z ----------------------- */
typedef struct { fe X, Y, Z, T; } ge;
/* An addend prepared for addition: (Y+X, Y-X, 2Z, 2dT). */
typedef struct { fe YpX, YmX, Z2, T2d; } ge_cached;

static void ge_identity(ge *p) {
    fe_copy(p->X, FE_ZERO);
    fe_copy(p->Y, FE_ONE);
    fe_copy(p->Z, FE_ONE);
    fe_copy(p->T, FE_ZERO);
}

static void ge_to_cached(ge_cached *c, const ge *p) {
    fe_add(c->YpX, p->Y, p->X);
    fe_sub(c->YmX, p->Y, p->X);
    fe_add(c->Z2, p->Z, p->Z);
    fe_mul(c->T2d, p->T, D2);
}

/* r = p + q, or p - q when sub is set: the unified formula of Hisil et al. for a = -1,
 * complete on edwards25519 (d is not a square), so doubling and the identity need no
 * special case. Subtracting negates q = (X, Y, Z, T) into (-X, Y, Z, -T), which swaps
 * Y+X with Y-X and negates 2dT. With z1 set, q's Z is 1 (a point just decoded): its cached
 * 2Z is 2, so Z_p * 2Z_q is an addition instead of a multiplication. */
static inline void ge_addsub_with(ge *r, const ge *p, const ge_cached *q, int sub, int z1) {
    fe a, b, c, d, e, f, g, h;
    fe_sub(a, p->Y, p->X);
    fe_mul(a, a, sub ? q->YpX : q->YmX);
    fe_add(b, p->Y, p->X);
    fe_mul(b, b, sub ? q->YmX : q->YpX);
    fe_mul(c, p->T, q->T2d);
    if (z1) {
        fe_add(d, p->Z, p->Z);
    } else {
        fe_mul(d, p->Z, q->Z2);
    }
    fe_sub(e, b, a);
    if (sub) {
        fe_add(f, d, c);
        fe_sub(g, d, c);
    } else {
        fe_sub(f, d, c);
        fe_add(g, d, c);
    }
    fe_add(h, b, a);
    fe_mul(r->X, e, f);
    fe_mul(r->Y, g, h);
    fe_mul(r->T, e, h);
    fe_mul(r->Z, f, g);
}

static void ge_addsub(ge *r, const ge *p, const ge_cached *q, int sub) {
    ge_addsub_with(r, p, q, sub, 0);
}

static void ge_add(ge *r, const ge *p, const ge_cached *q) { ge_addsub(r, p, q, 0); }

static void ge_addsub_z1(ge *r, const ge *p, const ge_cached *q, int sub) {
    ge_addsub_with(r, p, q, sub, 1);
}

static void ge_add_ge(ge *r, const ge *p, const ge *q) {
    ge_cached c;
    ge_to_cached(&c, q);
    ge_addsub(r, p, &c, 0);
}

/* r = 2p (Hisil et al.'s doubling with a = -1; all four outputs negated in pairs, which
 * leaves the point unchanged). Doubling never reads T, so a doubling followed by another
 * may skip computing it (with_t = 0). */
static void ge_dbl_t(ge *r, const ge *p, int with_t) {
    fe a, b, c, e, f, g, h, xy;
    fe_sq(a, p->X);
    fe_sq(b, p->Y);
    fe_sq(c, p->Z);
    fe_add(c, c, c);
    fe_add(h, a, b);
    fe_add(xy, p->X, p->Y);
    fe_sq(xy, xy);
    fe_sub(e, h, xy);
    fe_sub(g, a, b);
    fe_add(f, c, g);
    fe_mul(r->X, e, f);
    fe_mul(r->Y, g, h);
    if (with_t) fe_mul(r->T, e, h);
    fe_mul(r->Z, f, g);
}


/* r = 2^n p (n >= 1) */
static void ge_dbl_n(ge *r, const ge *p, int n) {
    for (int i = 0; i < n; i++) ge_dbl_t(r, i ? r : p, i == n - 1);
}

static void ge_neg(ge *r, const ge *p) {
    fe_neg(r->X, p->X);
    fe_copy(r->Y, p->Y);
    fe_copy(r->Z, p->Z);
    fe_neg(r->T, p->T);
}

/* ---- ristretto255 (RFC 9496, section 4.3) ------------------------------------------------ */

/* DECODE: 0 and the point when s is the canonical encoding of an element, else -1. */
static int ristretto_decode(ge *p, const unsigned char s[32]) {
    fe f, ss, u1, u2, u2sq, v, t, invsqrt, den_x, den_y;
    unsigned char check[32];
    fe_frombytes(f, s);
    fe_tobytes(check, f);
    if (memcmp(check, s, 32) != 0) return -1; /* s >= p, or bit 255 set */
    if (s[0] & 1) return -1;                  /* s negative */
    fe_sq(ss, f);
    fe_sub(u1, FE_ONE, ss);
    fe_add(u2, FE_ONE, ss);
    fe_sq(u2sq, u2);
    fe_sq(v, u1);
    fe_mul(v, v, D);
    fe_neg(v, v);
    fe_sub(v, v, u2sq);                       /* v = -(d u1^2) - u2^2 */
    fe_mul(t, v, u2sq);
    int was_square = sqrt_ratio_m1(invsqrt, FE_ONE, t);
    fe_mul(den_x, invsqrt, u2);
    fe_mul(den_y, invsqrt, den_x);
    fe_mul(den_y, den_y, v);
    fe_add(p->X, f, f);
    fe_mul(p->X, p->X, den_x);
    fe_abs(p->X, p->X);                       /* x = |2 s den_x| */
    fe_mul(p->Y, u1, den_y);
    fe_copy(p->Z, FE_ONE);
    fe_mul(p->T, p->X, p->Y);
    if (!was_square || fe_isneg(p->T) || fe_iszero(p->Y)) return -1;
    return 0;
}

/* ENCODE: the canonical encoding of the element p represents. */
static void ristretto_encode(unsigned char s[32], const ge *p) {
    fe u1, u2, t, invsqrt, den1, den2, z_inv, ix, iy, enchanted, x, y, den_inv, r;
    fe_add(u1, p->Z, p->Y);
    fe_sub(t, p->Z, p->Y);
    fe_mul(u1, u1, t);                        /* (z + y)(z - y) */
    fe_mul(u2, p->X, p->Y);
    fe_sq(t, u2);
    fe_mul(t, t, u1);
    sqrt_ratio_m1(invsqrt, FE_ONE, t);
    fe_mul(den1, invsqrt, u1);
    fe_mul(den2, invsqrt, u2);
    fe_mul(z_inv, den1, den2);
    fe_mul(z_inv, z_inv, p->T);
    fe_mul(ix, p->X, SQRT_M1);
    fe_mul(iy, p->Y, SQRT_M1);
    fe_mul(enchanted, den1, INVSQRT_A_MINUS_D);
    fe_mul(t, p->T, z_inv);
    if (fe_isneg(t)) { /* rotate */
        fe_copy(x, iy);
        fe_copy(y, ix);
        fe_copy(den_inv, enchanted);
    } else {
        fe_copy(x, p->X);
        fe_copy(y, p->Y);
        fe_copy(den_inv, den2);
    }
    fe_mul(t, x, z_inv);
    if (fe_isneg(t)) fe_neg(y, y);
    fe_sub(r, p->Z, y);
    fe_mul(r, r, den_inv);
    fe_abs(r, r);
    fe_tobytes(s, r);
}

/* MAP (Elligator 2 for ristretto255): a field element to a point. */
static void ristretto_map(ge *p, const fe t) {
    fe r, u, v, w, s, c, n, w0, w1, w2, w3, minus_one;
    fe_sq(r, t);
    fe_mul(r, r, SQRT_M1);
    fe_add(u, r, FE_ONE);
    fe_mul(u, u, ONE_MINUS_D_SQ);
    fe_neg(minus_one, FE_ONE);
    fe_mul(w, r, D);
    fe_sub(v, minus_one, w);
    fe_add(w, r, D);
    fe_mul(v, v, w);                          /* v = (-1 - r d)(r + d) */
    int was_square = sqrt_ratio_m1(s, u, v);
    if (was_square) {
        fe_copy(c, minus_one);
    } else {
        fe_mul(s, s, t);
        fe_abs(s, s);
        fe_neg(s, s);
        fe_copy(c, r);
    }
    fe_sub(n, r, FE_ONE);
    fe_mul(n, n, c);
    fe_mul(n, n, D_MINUS_ONE_SQ);
    fe_sub(n, n, v);
    fe_mul(w0, s, v);
    fe_add(w0, w0, w0);
    fe_mul(w1, n, SQRT_AD_MINUS_ONE);
    fe_sq(w3, s);
    fe_sub(w2, FE_ONE, w3);
    fe_add(w3, FE_ONE, w3);
    fe_mul(p->X, w0, w3);
    fe_mul(p->Y, w2, w1);
    fe_mul(p->Z, w1, w3);
    fe_mul(p->T, w0, w2);
}

/* ---- scalar multiplication ---------------------------------------------------------------- */

/* Signed radix-16 digits of a 256-bit little-endian scalar: e[0..64] in [-8, 8) with
 * k = sum e[i] 16^i (the last digit takes the final carry, 0 or 1). */
static void recode16(signed char e[65], const unsigned char k[32]) {
    int carry = 0;
    for (int i = 0; i < 32; i++) {
        e[2 * i] = (signed char)(k[i] & 15);
        e[2 * i + 1] = (signed char)(k[i] >> 4);
    }
    for (int i = 0; i < 64; i++) {
        int d = e[i] + carry;
        carry = (d + 8) >> 4;
        e[i] = (signed char)(d - (carry << 4));
    }
    e[64] = (signed char)carry;
}

/* Straus' simultaneous method: one shared chain of doublings, each point contributing
 * its signed radix-16 digit from a table of 1P..8P. Best for a few points. */
static void straus(ge *r, const unsigned char *scalars, const ge *points, size_t n,
                   ge_cached *tables, signed char *digits) {
    for (size_t j = 0; j < n; j++) {
        ge acc = points[j];
        recode16(digits + 65 * j, scalars + 32 * j);
        ge_to_cached(&tables[8 * j], &acc);
        for (int m = 1; m < 8; m++) {
            ge_add(&acc, &acc, &tables[8 * j]);
            ge_to_cached(&tables[8 * j + m], &acc);
        }
    }
    ge_identity(r);
    for (int i = 64; i >= 0; i--) {
        if (i < 64) ge_dbl_n(r, r, 4);
        for (size_t j = 0; j < n; j++) {
            int d = digits[65 * j + i];
            if (d > 0) ge_addsub(r, r, &tables[8 * j + d - 1], 0);
            else if (d < 0) ge_addsub(r, r, &tables[8 * j - d - 1], 1);
        }
    }
}

/* The c-bit window of a 256-bit little-endian scalar starting at bit `bit` (bits past 255
 * read as 0). */
static uint32_t window_bits(const unsigned char k[32], int bit, int c) {
    uint32_t w = 0;
    /* gather the (at most 3) bytes the window touches, then shift and mask */
    for (int byte = (bit >> 3) + 2; byte >= bit >> 3; byte--)
        w = (w << 8) | (byte < 32 ? k[byte] : 0);
    return (w >> (bit & 7)) & ((1u << c) - 1);
}

/* Pippenger's bucket method with signed c-bit digits: per window, each point goes into
 * the bucket of its digit's magnitude (negated for a negative digit); the window's sum
 * sum_b b * bucket[b] is formed with two running sums; windows are combined from the top
 * by c doublings each. Every point must have Z = 1 (as decoded). Returns -1 if memory
 * runs out. */
static int pippenger(ge *r, const unsigned char *scalars, const ge *points, size_t n, int c) {
    int windows = (256 + c - 1) / c + 1;
    int half = 1 << (c - 1);
    int16_t *digits = malloc(sizeof(int16_t) * n * (size_t)windows);
    ge_cached *cached = malloc(sizeof(ge_cached) * n);
    ge *buckets = malloc(sizeof(ge) * (size_t)half);
    unsigned char *used = malloc((size_t)half);
    if (!digits || !cached || !buckets || !used) {
        free(digits); free(cached); free(buckets); free(used);
        return -1;
    }
    for (size_t j = 0; j < n; j++) {
        int carry = 0;
        for (int w = 0; w < windows; w++) {
            int d = (int)window_bits(scalars + 32 * j, w * c, c) + carry;
            carry = d >= half;
            if (carry) d -= 1 << c;
            digits[j * (size_t)windows + (size_t)w] = (int16_t)d;
        }
        ge_to_cached(&cached[j], &points[j]);
    }
    ge_identity(r);
    for (int w = windows - 1; w >= 0; w--) {
        if (w < windows - 1) ge_dbl_n(r, r, c);
        memset(used, 0, (size_t)half);
        for (size_t j = 0; j < n; j++) {
            int d = digits[j * (size_t)windows + (size_t)w];
            if (d == 0) continue;
            int b = (d > 0 ? d : -d) - 1;
            if (!used[b]) {
                if (d > 0) buckets[b] = points[j];
                else ge_neg(&buckets[b], &points[j]);
                used[b] = 1;
            } else {
                ge_addsub_z1(&buckets[b], &buckets[b], &cached[j], d < 0);
            }
        }
        ge running, sum;
        int started = 0;
        ge_identity(&running);
        ge_identity(&sum);
        for (int b = half - 1; b >= 0; b--) {
            if (used[b]) {
                if (started) ge_add_ge(&running, &running, &buckets[b]);
                else running = buckets[b];
                started = 1;
            }
            if (started) ge_add_ge(&sum, &sum, &running);
        }
        ge_add_ge(r, r, &sum);
    }
    free(digits); free(cached); free(buckets); free(used);
    return 0;
}

/* Estimated additions for n points: Straus about 72 n; Pippenger with window c about
 * (256/c + 1)(n + 2^c). Returns 0 for Straus, else the best c. */
static int choose_window(size_t n) {
    double best = 72.0 * (double)n + 256.0; /* + the doublings Straus does not share */
    int best_c = 0;
    for (int c = 4; c <= 15; c++) {
        double cost = (double)((256 + c - 1) / c + 1) * ((double)n + (double)(1 << c));
        if (cost < best) { best = cost; best_c = c; }
    }
    return best_c;
}

/* points: as decoded (Z = 1). */
static int msm(ge *r, const unsigned char *scalars, const ge *points, size_t n) {
    int c = choose_window(n);
    if (c) return pippenger(r, scalars, points, n, c);
    ge_cached *tables = malloc(sizeof(ge_cached) * 8 * (n ? n : 1));
    signed char *digits = malloc(65 * (n ? n : 1));
    if (!tables || !digits) {
        free(tables); free(digits);
        return -1;
    }
    straus(r, scalars, points, n, tables, digits);
    free(tables); free(digits);
    return 0;
}

/* ---- the public functions ------------------------------------------------------------------ */

int vv_is_valid(const unsigned char p[32]) {
    ge q;
    return ristretto_decode(&q, p) == 0;
}

int vv_add(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]) {
    ge p, q;
    if (ristretto_decode(&p, a) || ristretto_decode(&q, b)) return -1;
    ge_add_ge(&p, &p, &q);
    ristretto_encode(out, &p);
    return 0;
}

int vv_sub(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]) {
    ge p, q;
    ge_cached c;
    if (ristretto_decode(&p, a) || ristretto_decode(&q, b)) return -1;
    ge_to_cached(&c, &q);
    ge_addsub(&p, &p, &c, 1);
    ristretto_encode(out, &p);
    return 0;
}

int vv_neg(unsigned char out[32], const unsigned char a[32]) {
    ge p;
    if (ristretto_decode(&p, a)) return -1;
    ge_neg(&p, &p);
    ristretto_encode(out, &p);
    return 0;
}

int vv_scalarmult(unsigned char out[32], const unsigned char k[32], const unsigned char p[32]) {
    ge q, r;
    ge_cached table[8];
    signed char digits[65];
    if (ristretto_decode(&q, p)) return -1;
    straus(&r, k, &q, 1, table, digits);
    ristretto_encode(out, &r);
    return 0;
}

int vv_msm(unsigned char out[32], const unsigned char *scalars, const unsigned char *points,
           size_t n) {
    ge r;
    ge *decoded = malloc(sizeof(ge) * (n ? n : 1));
    if (!decoded) return -2;
    for (size_t j = 0; j < n; j++) {
        if (ristretto_decode(&decoded[j], points + 32 * j)) {
            free(decoded);
            return (int)(j < 0x7ffffffe ? j + 1 : 0x7fffffff);
        }
    }
    int rc = msm(&r, scalars, decoded, n);
    free(decoded);
    if (rc) return -2;
    ristretto_encode(out, &r);
    return 0;
}

/* Sums of consecutive runs of points, each decoded once: the sums a batch of ballots needs
 * (a contest's total ciphertext, a tally's running products). */
static int sum_run(ge *acc, const unsigned char *points, size_t n, size_t first) {
    ge q;
    ge_cached c;
    ge_identity(acc);
    for (size_t j = 0; j < n; j++) {
        if (ristretto_decode(&q, points + 32 * j)) {
            size_t bad = first + j;
            return (int)(bad < 0x7ffffffe ? bad + 1 : 0x7fffffff);
        }
        if (j == 0) {
            *acc = q;
        } else {
            ge_to_cached(&c, &q);
            ge_add(acc, acc, &c);
        }
    }
    return 0;
}

int vv_sum(unsigned char out[32], const unsigned char *points, size_t n) {
    ge acc;
    int rc = sum_run(&acc, points, n, 0);
    if (rc) return rc;
    ristretto_encode(out, &acc);
    return 0;
}

int vv_sum_runs(unsigned char *out, const unsigned char *points, size_t k, size_t m) {
    ge acc;
    for (size_t i = 0; i < m; i++) {
        int rc = sum_run(&acc, points + 32 * k * i, k, k * i);
        if (rc) return rc;
        ristretto_encode(out + 32 * i, &acc);
    }
    return 0;
}

size_t vv_valid_flags(unsigned char *flags, const unsigned char *points, size_t n) {
    ge q;
    size_t valid = 0;
    for (size_t j = 0; j < n; j++) {
        flags[j] = ristretto_decode(&q, points + 32 * j) == 0;
        valid += flags[j];
    }
    return valid;
}

void vv_from_uniform(unsigned char out[32], const unsigned char h[64]) {
    fe t;
    ge p, q;
    fe_frombytes(t, h);
    ristretto_map(&p, t);
    fe_frombytes(t, h + 32);
    ristretto_map(&q, t);
    ge_add_ge(&p, &p, &q);
    ristretto_encode(out, &p);
}

/* ---- conversion to and from edwards25519 (RFC 8032 encodings), for public points ------------
 * verivote's constant-time device path (verivote/groups/ristretto255.py) multiplies secret
 * scalars with libsodium on edwards25519 points and converts only PUBLISHED results here. */

/* 1/z as z^(p-2) = z^(2^255 - 21) (0 for z = 0). */
static void fe_invert(fe h, const fe z) {
    fe t, z3;
    fe_pow22523(t, z);       /* z^(2^252 - 3) */
    fe_sqn(t, t, 3);         /* z^(2^255 - 24) */
    fe_sq(z3, z);
    fe_mul(z3, z3, z);       /* z^3 */
    fe_mul(h, t, z3);
}

/* 8^-1 modulo the group order L, little-endian. */
static const unsigned char INV8[32] = {
    0x79, 0x2f, 0xdc, 0xe2, 0x29, 0xe5, 0x06, 0x61,
    0xd0, 0xda, 0x1c, 0x7d, 0xb3, 0x9d, 0xd3, 0x07,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06};

int vv_to_edwards(unsigned char out[32], const unsigned char p[32]) {
    ge q, r;
    ge_cached table[8];
    signed char digits[65];
    fe zinv, x, y;
    if (ristretto_decode(&q, p)) return -1;
    /* p's class is {P0 + T : T of order dividing 4} with P0 of order L: 8^-1 (8p) = P0. */
    ge_dbl_n(&q, &q, 3);
    straus(&r, INV8, &q, 1, table, digits);
    fe_invert(zinv, r.Z);
    fe_mul(x, r.X, zinv);
    fe_mul(y, r.Y, zinv);
    fe_tobytes(out, y);
    out[31] |= (unsigned char)(fe_isneg(x) << 7);
    return 0;
}

int vv_from_edwards(unsigned char out[32], const unsigned char e[32]) {
    fe x, y, u, v;
    ge p;
    unsigned char check[32];
    int sign = e[31] >> 7;
    fe_frombytes(y, e);
    fe_tobytes(check, y);
    check[31] |= (unsigned char)(sign << 7);
    if (memcmp(check, e, 32) != 0) return -1;  /* y >= p */
    fe_sq(u, y);
    fe_mul(v, u, D);
    fe_sub(u, u, FE_ONE);                      /* y^2 - 1 */
    fe_add(v, v, FE_ONE);                      /* d y^2 + 1 */
    if (!sqrt_ratio_m1(x, u, v)) return -1;    /* not on the curve */
    if (fe_iszero(x) && sign) return -1;       /* x = 0 with the sign bit: not canonical */
    if (fe_isneg(x) != sign) fe_neg(x, x);
    fe_copy(p.X, x);
    fe_copy(p.Y, y);
    fe_copy(p.Z, FE_ONE);
    fe_mul(p.T, x, y);
    ristretto_encode(out, &p);
    return 0;
}
