"""Allocator settings for the long-running server process, so streaming a year of data keeps
flat memory (what ``scripts/hapi_memory.py`` measures).

Each chunk the server encodes is a few MB of numpy/Arrow buffers that live for milliseconds.
glibc's malloc raises its mmap threshold after such a block is freed, so later blocks come from
the heap and stay resident, once per thread arena; Arrow's default mimalloc pool caches freed
memory per thread too. Fixing the threshold, capping the arenas and using the system pool for
Arrow gives the memory back to the OS as soon as a chunk has been sent.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def bound_server_memory(mmap_threshold: int = 256 * 1024, arenas: int = 2) -> bool:
    """Apply the settings; returns False where glibc's ``mallopt`` is not available."""
    pa.set_memory_pool(pa.system_memory_pool())
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, 2 * mmap_threshold) == 1
    ok &= mallopt(_M_ARENA_MAX, arenas) == 1
    return bool(ok)
