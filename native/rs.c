/* CCSDS 131.0-B channel-coding kernels; see coding.h. Pure-Python reference: native/coding_reference.py.
 *
 * Reed-Solomon arithmetic is table driven: exp/log tables for the Berlekamp-Massey / Forney
 * steps, and one 256-byte "multiply by constant" table per syndrome root so the syndromes are a
 * Horner recurrence of plain loads. Syndromes of a batch of codewords are computed together
 * (AVX2 split-nibble shuffles when the CPU has them), and codewords whose syndromes are all zero
 * exit immediately: a clean link costs the syndromes only. */
#include <string.h>

#include "coding.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OPALS_X86 1
#endif

#define NN 255
#define NROOTS 32
#define KK (NN - NROOTS)
#define FCR 112
#define PRIM 11
#define GFPOLY 0x187
#define A0 255 /* log of zero */

static uint8_t gf_exp[512 + 2 * 255];
static uint8_t gf_log[256];
static uint8_t root_mul[NROOTS][256];     /* x -> x * beta^(FCR+j), beta = alpha^PRIM */
static uint8_t root_nib[NROOTS][2][16];   /* split-nibble forms of root_mul for SIMD */
static uint8_t gen_mul[NROOTS][256];      /* x -> x * g_k, generator coefficients g_(31-k) */
static uint8_t taltab[256], tal1tab[256];
static uint8_t pn[NN * 8];
static uint16_t crc_tab[256];
static int initialised;
static int have_avx2;

static inline uint8_t gmul(uint8_t a, uint8_t b) {
    if (!a || !b) return 0;
    return gf_exp[gf_log[a] + gf_log[b]];
}

static inline int mod255(int x) {
    x %= 255;
    return x < 0 ? x + 255 : x;
}

void opals_coding_init(void) {
    if (initialised) return;
    int x = 1;
    for (int i = 0; i < 255; i++) {
        gf_exp[i] = (uint8_t)x;
        gf_log[x] = (uint8_t)i;
        x <<= 1;
        if (x & 0x100) x ^= GFPOLY;
    }
    gf_log[0] = A0;
    for (int i = 255; i < (int)sizeof gf_exp; i++) gf_exp[i] = gf_exp[i % 255];

    for (int j = 0; j < NROOTS; j++) {
        uint8_t r = gf_exp[mod255(PRIM * (FCR + j))];
        for (int v = 0; v < 256; v++) root_mul[j][v] = gmul((uint8_t)v, r);
        for (int v = 0; v < 16; v++) {
            root_nib[j][0][v] = root_mul[j][v];
            root_nib[j][1][v] = root_mul[j][v << 4];
        }
    }
    /* g(x) = prod_j (x - beta^(FCR+j)), coefficients g[0..32], g[32] = 1 */
    uint8_t g[NROOTS + 1];
    memset(g, 0, sizeof g);
    g[0] = 1;
    for (int j = 0; j < NROOTS; j++) {
        uint8_t r = gf_exp[mod255(PRIM * (FCR + j))];
        for (int k = j + 1; k > 0; k--) g[k] = g[k - 1] ^ gmul(g[k], r);
        g[0] = gmul(g[0], r);
    }
    /* parity register p[0..31] holds the coefficients of x^31..x^0; feedback multiplies g[31-k] */
    for (int k = 0; k < NROOTS; k++)
        for (int v = 0; v < 256; v++) gen_mul[k][v] = gmul((uint8_t)v, g[NROOTS - 1 - k]);

    /* CCSDS 131.0-B Annex F: rows of T_alpha-to-l (conventional -> Berlekamp dual basis). */
    static const uint8_t tal[8] = {0x8d, 0xef, 0xec, 0x86, 0xfa, 0x99, 0xaf, 0x7b};
    for (int i = 0; i < 256; i++) {
        uint8_t out = 0;
        for (int k = 0; k < 8; k++)
            if (i & (1 << k)) out ^= tal[7 - k];
        taltab[i] = out;
        tal1tab[out] = (uint8_t)i;
    }
    /* randomizer: a(n+8) = a(n+7) ^ a(n+5) ^ a(n+3) ^ a(n), a(0..7) = 1 (h(x) = x^8+x^7+x^5+x^3+1) */
    uint8_t bits[NN * 8 * 8 + 8];
    for (int i = 0; i < 8; i++) bits[i] = 1;
    for (int i = 8; i < (int)sizeof bits; i++) bits[i] = bits[i - 1] ^ bits[i - 3] ^ bits[i - 5] ^ bits[i - 8];
    for (int i = 0; i < NN * 8; i++) {
        uint8_t b = 0;
        for (int k = 0; k < 8; k++) b = (uint8_t)((b << 1) | bits[i * 8 + k]);
        pn[i] = b;
    }
    for (int i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int k = 0; k < 8; k++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        crc_tab[i] = c;
    }
#ifdef OPALS_X86
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
#endif
    initialised = 1;
}

const uint8_t *opals_dual_from_conv(void) { opals_coding_init(); return taltab; }
const uint8_t *opals_conv_from_dual(void) { opals_coding_init(); return tal1tab; }
const uint8_t *opals_pn_sequence(void) { opals_coding_init(); return pn; }

uint16_t opals_coding_crc16(const uint8_t *data, size_t len) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < len; i++) c = (uint16_t)((c << 8) ^ crc_tab[(c >> 8) ^ data[i]]);
    return c;
}

/* ------------------------------------------------------------------ encoder */

static void encode_conv(const uint8_t *msg, int k, uint8_t *parity) {
    uint8_t p[NROOTS];
    memset(p, 0, sizeof p);
    for (int i = 0; i < k; i++) {
        uint8_t fb = msg[i] ^ p[0];
        for (int j = 0; j < NROOTS - 1; j++) p[j] = p[j + 1] ^ gen_mul[j][fb];
        p[NROOTS - 1] = gen_mul[NROOTS - 1][fb];
    }
    memcpy(parity, p, NROOTS);
}

void opals_rs_encode_blocks(const uint8_t *frames, uint8_t *codeblocks, size_t n, int depth,
                            int shorten, int dual) {
    opals_coding_init();
    const int k = KK - shorten, nn = NN - shorten;
    uint8_t msg[KK], par[NROOTS];
    for (size_t b = 0; b < n; b++) {
        const uint8_t *f = frames + b * (size_t)k * depth;
        uint8_t *c = codeblocks + b * (size_t)nn * depth;
        memcpy(c, f, (size_t)k * depth);
        for (int w = 0; w < depth; w++) {
            for (int i = 0; i < k; i++) {
                uint8_t s = f[i * depth + w];
                msg[i] = dual ? tal1tab[s] : s;
            }
            encode_conv(msg, k, par);
            for (int i = 0; i < NROOTS; i++) c[(k + i) * depth + w] = dual ? taltab[par[i]] : par[i];
        }
    }
}

/* ------------------------------------------------------------------ decoder */

static void syndromes_scalar(const uint8_t *cw, int len, uint8_t *s) {
    uint8_t acc[NROOTS];
    memset(acc, 0, sizeof acc);
    for (int i = 0; i < len; i++) {
        uint8_t r = cw[i];
        for (int j = 0; j < NROOTS; j++) acc[j] = root_mul[j][acc[j]] ^ r;
    }
    memcpy(s, acc, NROOTS);
}

#ifdef OPALS_X86
/* Syndromes of 32 codewords at once: cols[i*32 + c] is symbol i of codeword c; s[j*32 + c]. */
__attribute__((target("avx2")))
static void syndromes_avx2_32(const uint8_t *cols, int len, uint8_t *s) {
    const __m256i mask = _mm256_set1_epi8(0x0f);
    for (int j0 = 0; j0 < NROOTS; j0 += 4) {
        __m256i lo[4], hi[4], acc[4];
        for (int q = 0; q < 4; q++) {
            lo[q] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)root_nib[j0 + q][0]));
            hi[q] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)root_nib[j0 + q][1]));
            acc[q] = _mm256_setzero_si256();
        }
        for (int i = 0; i < len; i++) {
            __m256i r = _mm256_loadu_si256((const __m256i *)(cols + (size_t)i * 32));
            for (int q = 0; q < 4; q++) {
                __m256i a = acc[q];
                __m256i l = _mm256_shuffle_epi8(lo[q], _mm256_and_si256(a, mask));
                __m256i h = _mm256_shuffle_epi8(hi[q], _mm256_and_si256(_mm256_srli_epi16(a, 4), mask));
                acc[q] = _mm256_xor_si256(_mm256_xor_si256(l, h), r);
            }
        }
        for (int q = 0; q < 4; q++) _mm256_storeu_si256((__m256i *)(s + (size_t)(j0 + q) * 32), acc[q]);
    }
}
#endif

/* Berlekamp-Massey, Chien search and Forney on a codeword with known nonzero syndromes. */
static int correct_conv(uint8_t *cw, int shorten, const uint8_t *synd) {
    const int len = NN - shorten;
    int s[NROOTS];
    for (int j = 0; j < NROOTS; j++) s[j] = gf_log[synd[j]];

    uint8_t lambda[NROOTS + 1], b[NROOTS + 1], t[NROOTS + 1];
    memset(lambda, 0, sizeof lambda);
    memset(b, 0, sizeof b);
    lambda[0] = b[0] = 1;
    int L = 0, m = 1;
    uint8_t bb = 1; /* last nonzero discrepancy */
    for (int r = 0; r < NROOTS; r++) {
        uint8_t d = synd[r];
        for (int i = 1; i <= L; i++)
            if (lambda[i] && s[r - i] != A0) d ^= gf_exp[gf_log[lambda[i]] + s[r - i]];
        if (!d) { m++; continue; }
        int coef = mod255(gf_log[d] - gf_log[bb]); /* d / bb */
        if (2 * L <= r) {
            memcpy(t, lambda, sizeof t);
            for (int i = m; i <= NROOTS; i++)
                if (b[i - m]) lambda[i] ^= gf_exp[gf_log[b[i - m]] + coef];
            L = r + 1 - L;
            memcpy(b, t, sizeof b);
            bb = d;
            m = 1;
        } else {
            for (int i = m; i <= NROOTS; i++)
                if (b[i - m]) lambda[i] ^= gf_exp[gf_log[b[i - m]] + coef];
            m++;
        }
    }
    int deg = 0;
    for (int i = NROOTS; i > 0; i--) if (lambda[i]) { deg = i; break; }
    if (deg != L || L > NROOTS / 2 || L == 0) return -1;

    /* Chien: error at degree e (symbol index len-1-e) when lambda(beta^-e) = 0, beta = alpha^11 */
    int lg[NROOTS / 2 + 1], step[NROOTS / 2 + 1];
    for (int i = 1; i <= L; i++) {
        lg[i] = gf_log[lambda[i]];      /* A0 when zero */
        step[i] = mod255(-PRIM * i);
    }
    int loc[NROOTS / 2], nloc = 0;
    for (int e = 0; e < len; e++) {
        uint8_t sum = 1;
        for (int i = 1; i <= L; i++) {
            if (lg[i] == A0) continue;
            sum ^= gf_exp[lg[i]];
            lg[i] += step[i];
            if (lg[i] >= 255) lg[i] -= 255;
        }
        if (!sum) {
            if (nloc == L) return -1;
            loc[nloc++] = e;
        }
    }
    if (nloc != L) return -1;

    /* omega(x) = S(x) lambda(x) mod x^L (degree < L) */
    uint8_t omega[NROOTS / 2];
    for (int i = 0; i < L; i++) {
        uint8_t v = 0;
        for (int k = 0; k <= i; k++)
            if (lambda[k] && s[i - k] != A0) v ^= gf_exp[gf_log[lambda[k]] + s[i - k]];
        omega[i] = v;
    }
    /* Forney: Y = X^(1-FCR) omega(X^-1) / lambda'(X^-1), X = beta^e */
    uint8_t fix[NROOTS / 2];
    for (int q = 0; q < nloc; q++) {
        int xinv = mod255(-PRIM * loc[q]);          /* log of X^-1 */
        uint8_t num = 0, den = 0;
        for (int i = 0; i < L; i++)
            if (omega[i]) num ^= gf_exp[(gf_log[omega[i]] + (xinv * i) % 255)];
        for (int i = 1; i <= L; i += 2)
            if (lambda[i]) den ^= gf_exp[(gf_log[lambda[i]] + (xinv * (i - 1)) % 255)];
        if (!den || !num) return -1;
        int lx = mod255(PRIM * loc[q]);
        int ly = mod255(lx * (1 - FCR) + gf_log[num] - gf_log[den]);
        fix[q] = gf_exp[ly];
    }
    for (int q = 0; q < nloc; q++) cw[len - 1 - loc[q]] ^= fix[q];
    return nloc;
}

int opals_rs_decode_conv(uint8_t *cw, int shorten) {
    opals_coding_init();
    uint8_t s[NROOTS];
    syndromes_scalar(cw, NN - shorten, s);
    uint8_t any = 0;
    for (int j = 0; j < NROOTS; j++) any |= s[j];
    if (!any) return 0;
    return correct_conv(cw, shorten, s);
}

/* Decode `count` codewords given as columns: cols[i*stride + c] = symbol i of codeword c
 * (conventional basis). Results in res[c]; corrected symbols are written back into cols. */
static void decode_columns(uint8_t *cols, size_t stride, int count, int shorten, int32_t *res) {
    const int len = NN - shorten;
    uint8_t synd[NROOTS * 32];
    uint8_t cw[NN], s1[NROOTS];
#ifdef OPALS_X86
    if (have_avx2 && stride == 32 && count == 32) {
        syndromes_avx2_32(cols, len, synd);
    } else
#endif
    {
        for (int c = 0; c < count; c++) {
            for (int i = 0; i < len; i++) cw[i] = cols[(size_t)i * stride + c];
            syndromes_scalar(cw, len, s1);
            for (int j = 0; j < NROOTS; j++) synd[j * 32 + c] = s1[j];
        }
    }
    for (int c = 0; c < count; c++) {
        uint8_t any = 0;
        for (int j = 0; j < NROOTS; j++) { s1[j] = synd[j * 32 + c]; any |= s1[j]; }
        if (!any) { res[c] = 0; continue; }
        for (int i = 0; i < len; i++) cw[i] = cols[(size_t)i * stride + c];
        int r = correct_conv(cw, shorten, s1);
        res[c] = r;
        if (r > 0)
            for (int i = 0; i < len; i++) cols[(size_t)i * stride + c] = cw[i];
    }
}

/* Gather up to 32 codewords from codeblocks (after optional dual->conventional mapping) into
 * columns, decode, and scatter the data symbols back in the wire basis. */
typedef struct {
    uint8_t *block;   /* codeblock holding the codeword */
    int w;            /* interleave index */
} cw_ref;

static size_t decode_refs(const cw_ref *refs, int count, int depth, int shorten, int dual,
                          int32_t *res_out[]) {
    const int len = NN - shorten;
    uint8_t cols[NN * 32];
    int32_t res[32];
    if (count < 32) memset(cols, 0, sizeof cols);
    /* codeword-major gather through local pointers: uint8_t stores alias everything, so the
     * loop must not re-read refs[] per byte */
    for (int c = 0; c < count; c++) {
        const uint8_t *restrict src = refs[c].block + refs[c].w;
        uint8_t *restrict dst = cols + c;
        if (dual)
            for (int i = 0; i < len; i++) dst[(size_t)i * 32] = tal1tab[src[(size_t)i * depth]];
        else
            for (int i = 0; i < len; i++) dst[(size_t)i * 32] = src[(size_t)i * depth];
    }
    decode_columns(cols, 32, count == 32 ? 32 : count, shorten, res);
    size_t failed = 0;
    for (int c = 0; c < count; c++) {
        *res_out[c] = res[c];
        if (res[c] < 0) { failed++; continue; }
        if (res[c] == 0) continue;
        for (int i = 0; i < len; i++) {
            uint8_t v = cols[(size_t)i * 32 + c];
            refs[c].block[(size_t)i * depth + refs[c].w] = dual ? taltab[v] : v;
        }
    }
    return failed;
}

size_t opals_rs_decode_blocks(uint8_t *codeblocks, size_t n, int depth, int shorten, int dual,
                              int32_t *corrected) {
    opals_coding_init();
    const size_t blen = (size_t)(NN - shorten) * depth;
    cw_ref refs[32];
    int32_t *outs[32];
    int count = 0;
    size_t failed = 0;
    for (size_t b = 0; b < n; b++) {
        for (int w = 0; w < depth; w++) {
            refs[count].block = codeblocks + b * blen;
            refs[count].w = w;
            outs[count] = corrected + b * depth + w;
            if (++count == 32) {
                failed += decode_refs(refs, count, depth, shorten, dual, outs);
                count = 0;
            }
        }
    }
    if (count) failed += decode_refs(refs, count, depth, shorten, dual, outs);
    return failed;
}

/* ------------------------------------------------------------------ randomizer, bits, sync */

void opals_randomize(uint8_t *buf, size_t len) {
    opals_coding_init();
    for (size_t i = 0; i < len; i++) buf[i] ^= pn[i % (NN * 8)];
}

void opals_extract_bytes(const uint8_t *buf, uint64_t bitpos, uint8_t *out, size_t nout) {
    const uint8_t *p = buf + (bitpos >> 3);
    const unsigned sh = (unsigned)(bitpos & 7);
    if (!sh) { memcpy(out, p, nout); return; }
    for (size_t i = 0; i < nout; i++) out[i] = (uint8_t)((p[i] << sh) | (p[i + 1] >> (8 - sh)));
}

#define ASM_WORD 0x1ACFFC1Du

static inline int marker_distance(const uint8_t *buf, uint64_t bitpos) {
    const uint8_t *p = buf + (bitpos >> 3);
    uint64_t v = ((uint64_t)p[0] << 32) | ((uint64_t)p[1] << 24) | ((uint64_t)p[2] << 16) |
                 ((uint64_t)p[3] << 8) | (uint64_t)p[4];
    uint32_t w = (uint32_t)(v >> (8 - (bitpos & 7)));
    return __builtin_popcount(w ^ ASM_WORD);
}

/* Safe marker distance: needs 5 bytes from bitpos>>3; returns 99 when out of range. */
static inline int marker_distance_checked(const uint8_t *buf, size_t nbytes, uint64_t bitpos) {
    if ((bitpos >> 3) + 5 > nbytes) {
        if (bitpos + 32 > (uint64_t)nbytes * 8) return 99;
        uint32_t w = 0;
        for (int k = 0; k < 32; k++) {
            uint64_t q = bitpos + k;
            w = (w << 1) | ((buf[q >> 3] >> (7 - (q & 7))) & 1);
        }
        return __builtin_popcount(w ^ ASM_WORD);
    }
    return marker_distance(buf, bitpos);
}

size_t opals_sync_scan(const uint8_t *buf, size_t nbytes, uint64_t *pos, uint32_t cadu_bits,
                       int search_tol, int lock_tol, int flywheel, int slip_window, int final,
                       opals_sync_state *st, uint64_t *out_pos, uint8_t *out_flag, size_t max_out) {
    const uint64_t nbits = (uint64_t)nbytes * 8;
    uint64_t p = *pos;
    size_t n = 0;
    /* a CADU at p can be extracted when its last bit is in the buffer */
#define FITS(q) ((q) + cadu_bits <= nbits)
    while (n < max_out) {
        if (st->locked) {
            if (!FITS(p)) break;
            int d = marker_distance_checked(buf, nbytes, p);
            if (d <= lock_tol) {
                st->misses = 0;
                st->marker_bit_errors += (uint64_t)d;
                out_pos[n] = p; out_flag[n] = 0; n++;
                p += cadu_bits;
                continue;
            }
            /* look for a slipped marker close to the prediction */
            int best = 99; uint64_t bestq = p;
            for (int k = -slip_window; k <= slip_window; k++) {
                if (k == 0 || (k < 0 && (uint64_t)(-k) > p)) continue;
                uint64_t q = p + (int64_t)k;
                int dq = marker_distance_checked(buf, nbytes, q);
                if (dq < best) { best = dq; bestq = q; }
            }
            if (best <= search_tol && FITS(bestq)) {
                st->misses = 0;
                st->slips++;
                st->marker_bit_errors += (uint64_t)best;
                out_pos[n] = bestq; out_flag[n] = 1; n++;
                p = bestq + cadu_bits;
                continue;
            }
            if (st->misses < flywheel) {
                st->misses++;
                st->flywheel_frames++;
                out_pos[n] = p; out_flag[n] = 2; n++;
                p += cadu_bits;
                continue;
            }
            st->locked = 0;
            st->misses = 0;
            st->lock_losses++;
            continue; /* search from p */
        }
        /* searching: bit-by-bit correlation */
        int found = 0;
        while (p + 32 + 8 <= nbits) {
            int d = marker_distance(buf, p);
            if (d <= search_tol) {
                uint64_t nxt = p + cadu_bits;
                if (nxt + 32 + 8 <= nbits) {
                    if (marker_distance(buf, nxt) <= lock_tol) { found = 1; break; }
                } else if (final) {
                    if (d == 0 && FITS(p)) { found = 1; break; }
                } else {
                    break; /* need more data to confirm */
                }
            }
            p++;
        }
        if (!found) break;
        st->locked = 1;
        st->misses = 0;
        st->acquisitions++;
    }
#undef FITS
    *pos = p;
    return n;
}

size_t opals_cadu_decode(const uint8_t *buf, const uint64_t *positions, size_t n, int depth,
                         int shorten, int derandomize, int dual, uint8_t *frames,
                         int32_t *corrected, uint8_t *crc_ok) {
    opals_coding_init();
    const size_t blen = (size_t)(NN - shorten) * depth;
    const size_t flen = (size_t)(KK - shorten) * depth;
    enum { CHUNK = 16 };
    static __thread uint8_t blocks[CHUNK * NN * 8];
    size_t failed = 0;
    for (size_t b0 = 0; b0 < n; b0 += CHUNK) {
        size_t cnt = n - b0 < CHUNK ? n - b0 : CHUNK;
        for (size_t b = 0; b < cnt; b++) {
            uint8_t *blk = blocks + b * blen;
            opals_extract_bytes(buf, positions[b0 + b] + 32, blk, blen);
            if (derandomize)
                for (size_t i = 0; i < blen; i++) blk[i] ^= pn[i];
        }
        failed += opals_rs_decode_blocks(blocks, cnt, depth, shorten, dual, corrected + b0 * depth);
        for (size_t b = 0; b < cnt; b++) {
            uint8_t *f = frames + (b0 + b) * flen;
            memcpy(f, blocks + b * blen, flen);
            uint16_t c = opals_coding_crc16(f, flen - 2);
            crc_ok[b0 + b] = (uint8_t)(c == (uint16_t)((f[flen - 2] << 8) | f[flen - 1]));
        }
    }
    return failed;
}
