"""The C centroid kernel equals its numpy reference on any image, window or full frame."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from native.centroid import CentroidKernel, centroid_numpy

KERNEL = CentroidKernel()


@settings(max_examples=200, deadline=None)
@given(img=arrays(np.uint16, st.tuples(st.integers(1, 40), st.integers(1, 40))),
       threshold=st.integers(0, 70000))
def test_c_kernel_matches_numpy_reference(img, threshold):
    assert KERNEL(img, threshold) == centroid_numpy(img, min(threshold, 65535))


@settings(max_examples=50, deadline=None)
@given(x0=st.integers(0, 30), y0=st.integers(0, 30), seed=st.integers(0, 2**32 - 1))
def test_window_views_into_a_frame_use_the_parent_stride(x0, y0, seed):
    frame = np.random.default_rng(seed).integers(0, 65535, (64, 70)).astype(np.uint16)
    view = frame[y0:y0 + 32, x0:x0 + 32]
    assert KERNEL(view, 1000) == centroid_numpy(np.ascontiguousarray(view), 1000)


def test_full_frame_saturated_values_do_not_overflow():
    img = np.full((512, 640), 65535, np.uint16)
    m = KERNEL(img, 0)
    ref = centroid_numpy(img, 0)
    assert m == ref
    assert m.centroid == (319.5, 255.5)


def test_spot_centroid_is_where_the_spot_is():
    y, x = np.mgrid[0:32, 0:32]
    spot = 100 + 3000 * np.exp(-((x - 12.3) ** 2 + (y - 20.7) ** 2) / 2.0)
    cx, cy = KERNEL(spot.astype(np.uint16), 150).centroid
    assert abs(cx - 12.3) < 0.05 and abs(cy - 20.7) < 0.05


def test_rejects_wrong_dtype():
    import pytest
    with pytest.raises(ValueError):
        KERNEL(np.zeros((4, 4), np.float32), 0)
