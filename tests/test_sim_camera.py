"""The simulated acquisition camera: four independently scintillating beams average the fades
(the reason OPALS's ground station used four lasers), the signal falls with range squared, the
spot lands where the beacon is, and a window is the same scene as the full frame."""
from __future__ import annotations

import numpy as np
import pytest

from flight.hal import Window
from native.centroid import CentroidKernel
from sim.camera import CameraModel


def _fades(beams: int, n: int = 20000) -> np.ndarray:
    cam = CameraModel(np.random.default_rng(1), beams=beams, pool_size=1)
    return np.array([cam.beacon_signal(cam.reference_range_km) for _ in range(n)]) / cam.beacon_total_dn


def test_four_beams_halve_the_scintillation_of_one_and_keep_the_mean():
    one, four = _fades(1), _fades(4)
    assert one.mean() == pytest.approx(1.0, abs=0.03) and four.mean() == pytest.approx(1.0, abs=0.02)
    assert four.std() == pytest.approx(one.std() / 2, rel=0.1)
    assert one.std() > 0.4


def test_signal_falls_with_range_squared():
    cam = CameraModel(np.random.default_rng(2), scintillation_sigma=0.0, pool_size=1)
    near, far = cam.beacon_signal(600.0), cam.beacon_signal(1200.0)
    assert near == pytest.approx(cam.beacon_total_dn) and far == pytest.approx(near / 4)


@pytest.mark.parametrize("err", [(0.0, 0.0), (3000.0, -2000.0), (-12000.0, 9000.0)])
def test_spot_is_where_the_beacon_is_in_full_frame_and_window(err):
    cam = CameraModel(np.random.default_rng(3), pool_size=1)
    k = CentroidKernel()
    ex, ey = err
    x, y = cam._cx + ex / cam.ifov_urad, cam._cy + ey / cam.ifov_urad
    full = cam.render(None, (ex, ey, 20000.0))
    assert full.pixels.shape == (cam.height, cam.width) and full.pixels.dtype == np.uint16
    m = k(full.pixels, 250)
    assert m.centroid == pytest.approx((x, y), abs=0.1)
    win = Window(int(x) - 16, int(y) - 16, 32, 32)
    small = cam.render(win, (ex, ey, 20000.0))
    c = k(small.pixels, 250).centroid
    assert (c[0] + win.x0, c[1] + win.y0) == pytest.approx((x, y), abs=0.1)
    assert small.count == full.count + 1


def test_background_and_noise_without_beacon():
    cam = CameraModel(np.random.default_rng(4), pool_size=1)
    px = cam.render(None, None).pixels.astype(float)
    assert px.mean() == pytest.approx(cam.background_dn, abs=0.5)
    assert px.std() == pytest.approx(cam.noise_dn, rel=0.05)
