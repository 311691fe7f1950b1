#include <stdint.h>

/* Thresholded first moments of a uint16 image region, plus its brightest pixel.
   v = max(pixel - threshold, 0); sum = sum v; sx = sum v*x; sy = sum v*y (x, y relative to the region).
   out[7] = {sum, sx, sy, count above threshold, peak value, peak x, peak y}: one flat block so
   the Python side reads it back with a single ffi.unpack. */
void opals_centroid_u16(const uint16_t *img, int32_t stride, int32_t width, int32_t height,
                        uint32_t threshold, double *out);
