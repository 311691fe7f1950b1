/* One pass per sample, no temporaries: the numpy reference in protocol/geometry/look.py spends
 * half of look_angles' time in ~100 array temporaries; this loop removes them. */
#include <math.h>
#include "geometry.h"

#define DEG (180.0 / 3.14159265358979323846)

void opals_look_angles(size_t n, const double *r, const double *v, const double *theta,
                       const opals_look_params *p,
                       double *az, double *el, double *range_km, double *elevation, double *azimuth,
                       uint8_t *north, uint8_t *northern_sky, double *az_rate, double *el_rate, double *angular_rate,
                       double *station_rate)
{
    const double sx = p->station_ecef[0], sy = p->station_ecef[1], sz = p->station_ecef[2];
    const double w = p->earth_rate;
    for (size_t i = 0; i < n; i++) {
        const double rx = r[3 * i], ry = r[3 * i + 1], rz = r[3 * i + 2];
        const double vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2];
        const double c = cos(theta[i]), s = sin(theta[i]);
        /* line of sight ISS -> station (TEME) and its inertial rate */
        const double stx = c * sx - s * sy, sty = s * sx + c * sy;
        const double px = stx - rx, py = sty - ry, pz = sz - rz;
        const double pdx = -w * sty - vx, pdy = w * stx - vy, pdz = -vz;
        const double rng = sqrt(px * px + py * py + pz * pz), inv = 1.0 / rng;
        const double ux = px * inv, uy = py * inv, uz = pz * inv;
        const double radial = ux * pdx + uy * pdy + uz * pdz;
        const double udx = (pdx - ux * radial) * inv, udy = (pdy - uy * radial) * inv,
                     udz = (pdz - uz * radial) * inv;
        /* payload axes and frame rate (orbit rate + J2 out-of-plane turn) */
        const double hx = ry * vz - rz * vy, hy = rz * vx - rx * vz, hz = rx * vy - ry * vx;
        const double r2 = rx * rx + ry * ry + rz * rz, rn = sqrt(r2);
        const double hn = sqrt(hx * hx + hy * hy + hz * hz);
        const double zx = -rx / rn, zy = -ry / rn, zz = -rz / rn;
        const double yx = -hx / hn, yy = -hy / hn, yz = -hz / hn;
        const double xx = yy * zz - yz * zy, xy = yz * zx - yx * zz, xz = yx * zy - yy * zx;
        const double z2 = rz * rz / r2;
        const double k = p->j2_coeff / (r2 * r2 * rn);
        const double a_h = k * ((1.0 - 5.0 * z2) * (rx * hx + ry * hy) + (3.0 - 5.0 * z2) * rz * hz) / hn;
        const double w_h = 1.0 / r2, w_r = a_h / hn;
        const double wx = w_h * hx + w_r * rx, wy = w_h * hy + w_r * ry, wz = w_h * hz + w_r * rz;
        const double qx = udx - (wy * uz - wz * uy);
        const double qy = udy - (wz * ux - wx * uz);
        const double qz = udz - (wx * uy - wy * ux);
        const double gx = ux * xx + uy * xy + uz * xz, gy = ux * yx + uy * yy + uz * yz,
                     gz = ux * zx + uy * zy + uz * zz;
        const double dx = qx * xx + qy * xy + qz * xz, dy = qx * yx + qy * yy + qz * yz,
                     dz = qx * zx + qy * zy + qz * zz;
        const double xz2 = gx * gx + gz * gz;
        az[i] = atan2(gx, gz) * DEG;
        el[i] = asin(gy > 1.0 ? 1.0 : (gy < -1.0 ? -1.0 : gy)) * DEG;
        az_rate[i] = (gz * dx - gx * dz) / xz2 * DEG;
        el_rate[i] = dy / sqrt(xz2) * DEG;
        angular_rate[i] = sqrt(dx * dx + dy * dy + dz * dz) * DEG;
        range_km[i] = rng;
        /* station side: the ISS (-u) Earth-fixed, then east/north/up */
        const double ex = -(c * ux + s * uy), ey = -(c * uy - s * ux), ez = -uz;
        const double *e = p->enu;
        const double east = e[0] * ex + e[1] * ey + e[2] * ez;
        const double nor = e[3] * ex + e[4] * ey + e[5] * ez;
        const double up = e[6] * ex + e[7] * ey + e[8] * ez;
        elevation[i] = asin(up > 1.0 ? 1.0 : (up < -1.0 ? -1.0 : up)) * DEG;
        double a = atan2(east, nor);
        if (a < 0.0) a += 2.0 * 3.14159265358979323846;
        azimuth[i] = a * DEG;
        north[i] = gy > 0.0;  /* station on the starboard side of the orbit plane */
        northern_sky[i] = nor > 0.0;
        const double fx = udx + w * uy, fy = udy - w * ux;
        station_rate[i] = sqrt(fx * fx + fy * fy + udz * udz) * DEG;
    }
}

void opals_hermite_states(size_t n, const double *tai, const int64_t *pos, const double *node_tai,
                          const double *node_r, const double *node_v, double h, double *r, double *v)
{
    for (size_t i = 0; i < n; i++) {
        const int64_t k = pos[i];
        const double s = (tai[i] - node_tai[k]) / h, s2 = s * s, s3 = s2 * s;
        const double h00 = 2.0 * s3 - 3.0 * s2 + 1.0, h10 = (s3 - 2.0 * s2 + s) * h;
        const double h01 = -2.0 * s3 + 3.0 * s2, h11 = (s3 - s2) * h;
        const double d00 = (6.0 * s2 - 6.0 * s) / h, d10 = 3.0 * s2 - 4.0 * s + 1.0;
        const double d01 = (-6.0 * s2 + 6.0 * s) / h, d11 = 3.0 * s2 - 2.0 * s;
        const double *r0 = node_r + 3 * k, *r1 = r0 + 3, *v0 = node_v + 3 * k, *v1 = v0 + 3;
        for (int j = 0; j < 3; j++) {
            r[3 * i + j] = h00 * r0[j] + h10 * v0[j] + h01 * r1[j] + h11 * v1[j];
            v[3 * i + j] = d00 * r0[j] + d10 * v0[j] + d01 * r1[j] + d11 * v1[j];
        }
    }
}
