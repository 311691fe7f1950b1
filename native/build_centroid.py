"""cffi out-of-line API build of the beacon centroid kernel (run by setuptools during install)."""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent
ffibuilder = FFI()
ffibuilder.cdef((HERE / "centroid.h").read_text().replace("#include <stdint.h>", ""))
ffibuilder.set_source(
    "native._centroid",
    '#include "centroid.h"',
    sources=["native/centroid.c"],
    include_dirs=["native"],
    extra_compile_args=["-O3", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
