"""Phil Karn's libfec (Debian libfec-dev) through cffi, for the optical benchmarks only.

Built on first use into a cache directory next to this file (not part of the package): the
project itself never links libfec; it is the peer our RS decoder is measured against.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

CACHE = Path(__file__).parent / ".libfec_build"
MODULE = "_opals_libfec_v2"
CDEF = """
void encode_rs_ccsds(unsigned char *data, unsigned char *parity, int pad);
int decode_rs_ccsds(unsigned char *data, int *eras_pos, int no_eras, int pad);
void encode_rs_8(unsigned char *data, unsigned char *parity, int pad);
int decode_rs_8(unsigned char *data, int *eras_pos, int no_eras, int pad);
extern unsigned char Taltab[256], Tal1tab[256];
int decode_many_ccsds(unsigned char *data, int n);
"""
# the loop lives in C so the peer pays no Python call per codeword
SOURCE = """
#include <fec.h>
int decode_many_ccsds(unsigned char *data, int n) {
    int failed = 0;
    for (int i = 0; i < n; i++) failed += decode_rs_ccsds(data + 255 * i, 0, 0, 0) < 0;
    return failed;
}
"""


def load():
    """Return (ffi, lib) of the libfec wrapper, compiling it the first time (needs libfec-dev)."""
    CACHE.mkdir(exist_ok=True)
    if str(CACHE) not in sys.path:
        sys.path.insert(0, str(CACHE))
    try:
        mod = importlib.import_module(MODULE)
    except ImportError:
        from cffi import FFI

        ffi = FFI()
        ffi.cdef(CDEF)
        ffi.set_source(MODULE, SOURCE, libraries=["fec"], extra_compile_args=["-O2"])
        ffi.compile(tmpdir=str(CACHE))
        mod = importlib.import_module(MODULE)
    return mod.ffi, mod.lib
