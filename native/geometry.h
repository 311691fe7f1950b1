/* Look-angle kernel: the per-sample frame algebra after SGP4 (see protocol/geometry/look.py,
 * whose numpy code is the reference this kernel is held to). */
#include <stddef.h>
#include <stdint.h>

typedef struct {
    double station_ecef[3];  /* km */
    double enu[9];           /* rows: east, north, up (Earth-fixed unit vectors) */
    double earth_rate;       /* rad/s */
    double j2_coeff;         /* -1.5 * J2 * mu * Re^2 (km^5/s^2) */
} opals_look_params;

/* Cubic Hermite interpolation of SGP4 states between nodes h seconds apart: sample i lies
 * between node pos[i] and pos[i] + 1 (node_tai[pos[i]] <= tai[i] < node_tai[pos[i]] + h). */
void opals_hermite_states(size_t n, const double *tai, const int64_t *pos, const double *node_tai,
                          const double *node_r, const double *node_v, double h, double *r, double *v);

void opals_look_angles(size_t n, const double *r, const double *v, const double *theta,
                       const opals_look_params *p,
                       double *az, double *el, double *range_km, double *elevation, double *azimuth,
                       uint8_t *north, uint8_t *northern_sky, double *az_rate, double *el_rate, double *angular_rate,
                       double *station_rate);
