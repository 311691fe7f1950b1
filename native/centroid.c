/* Beacon centroid kernel: one pass over the region with a branch-free inner loop that the
   compiler vectorises (saturating subtract, per-column sums); x moments come from the column
   sums at the end, so no per-pixel multiply and no 32-bit overflow. */
#include "centroid.h"

#define MAX_WIDTH 4096

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define OPALS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OPALS_CLONES
#endif

OPALS_CLONES
void opals_centroid_u16(const uint16_t *img, int32_t stride, int32_t width, int32_t height,
                        uint32_t threshold, double *out)
{
    uint32_t colsum[MAX_WIDTH];
    uint64_t sum = 0, sy = 0;
    uint32_t count = 0, best = 0;
    int32_t best_row = 0;
    if (width > MAX_WIDTH) width = MAX_WIDTH;
    uint16_t thr = threshold > 65535 ? 65535 : (uint16_t)threshold;
    for (int32_t x = 0; x < width; x++) colsum[x] = 0;
    for (int32_t y = 0; y < height; y++) {
        const uint16_t *row = img + (int64_t)y * stride;
        uint32_t rsum = 0;
        uint16_t rcount = 0, rmax = 0;
        for (int32_t x = 0; x < width; x++) {
            uint16_t p = row[x];
            uint16_t v = p > thr ? (uint16_t)(p - thr) : 0;
            colsum[x] += v;
            rsum += v;
            rcount += (uint16_t)(v != 0);
            rmax = p > rmax ? p : rmax;
        }
        sum += rsum;
        sy += (uint64_t)rsum * (uint64_t)y;
        count += rcount;
        if (rmax > best) { best = rmax; best_row = y; }
    }
    uint64_t sx = 0;
    for (int32_t x = 0; x < width; x++) sx += (uint64_t)colsum[x] * (uint64_t)x;
    int32_t best_x = 0;
    if (height > 0) {
        const uint16_t *row = img + (int64_t)best_row * stride;
        for (int32_t x = 0; x < width; x++) if (row[x] == best) { best_x = x; break; }
    }
    out[0] = (double)sum;
    out[1] = (double)sx;
    out[2] = (double)sy;
    out[3] = (double)count;
    out[4] = (double)best;
    out[5] = (double)best_x;
    out[6] = (double)best_row;
}
