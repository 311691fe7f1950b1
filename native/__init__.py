"""C kernels through cffi for the hot loops; each has a pure-Python reference in ``reference``.

The extension is built during install (``pip install -e .``, which ``make`` runs). Importing
this package without it fails with a message that says how to build it.
"""
from __future__ import annotations

try:
    from native._packets import ffi as _ffi, lib as _lib
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "the native kernels are not built: run `make install` (or `pip install -e .`)"
    ) from exc

from native.packet_kernels import (  # noqa: E402  (needs the extension above)
    BatchDecoder,
    BatchStats,
    DeframeStats,
    StreamScanner,
    crc16,
    find_marker,
)

__all__ = ["crc16", "find_marker", "StreamScanner", "DeframeStats", "BatchDecoder", "BatchStats"]
