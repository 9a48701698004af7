/* verivote's compiled ristretto255 backend: the functions Python calls (through cffi).
 *
 * VERIFICATION ONLY. Every function here runs in variable time: it must only ever see
 * public data (ciphertexts, commitments, public keys, verifier challenges and weights),
 * never a secret key, a nonce or an encryption randomness.
 *
 * Elements are 32-byte ristretto255 encodings (RFC 9496, section 4.3); scalars are
 * 32-byte little-endian integers, used as they are (any value below 2^256; callers reduce
 * modulo the group order first). Functions returning int return 0 on success and -1 when
 * an input is not the canonical encoding of an element; vv_msm returns 1 + the index of
 * the first bad point instead, and -2 if it could not allocate memory.
 */
#ifndef VERIVOTE_RISTRETTO_H
#define VERIVOTE_RISTRETTO_H

#include <stddef.h>

int vv_is_valid(const unsigned char p[32]);
int vv_add(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]);
int vv_sub(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]);
int vv_neg(unsigned char out[32], const unsigned char a[32]);
int vv_scalarmult(unsigned char out[32], const unsigned char k[32], const unsigned char p[32]);
int vv_msm(unsigned char out[32], const unsigned char *scalars, const unsigned char *points,
           size_t n);
/* The encoding of p_0 + ... + p_(n-1) for n points packed in 32-byte encodings (the
 * identity for n = 0); 1 + the index of the first invalid point otherwise. */
int vv_sum(unsigned char out[32], const unsigned char *points, size_t n);
/* m sums of k consecutive points each: out[32 i ..] = the encoding of points k i .. k i + k - 1
 * (each point decoded once); 1 + the index of the first invalid point otherwise (out is
 * then written only up to that point's run). */
int vv_sum_runs(unsigned char *out, const unsigned char *points, size_t k, size_t m);
/* flags[i] = 1 when points[32 i ..] is the canonical encoding of an element, else 0;
 * returns the number of valid points. */
size_t vv_valid_flags(unsigned char *flags, const unsigned char *points, size_t n);
void vv_from_uniform(unsigned char out[32], const unsigned char h[64]);
/* The RFC 8032 encoding of the prime-order point in p's class (-1 for an invalid p). */
int vv_to_edwards(unsigned char out[32], const unsigned char p[32]);
/* The ristretto255 encoding of the edwards25519 point e, given in RFC 8032 encoding, of the
 * prime-order subgroup (-1 when e is not canonical or not on the curve). */
int vv_from_edwards(unsigned char out[32], const unsigned char e[32]);

#endif
