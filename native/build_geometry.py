"""cffi out-of-line API build of the look-angle kernel (run by setuptools during install)."""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent
ffibuilder = FFI()
ffibuilder.cdef((HERE / "geometry.h").read_text().replace("#include <stddef.h>", "").replace("#include <stdint.h>", ""))
ffibuilder.set_source(
    "native._geometry",
    '#include "geometry.h"',
    sources=["native/geometry.c"],
    include_dirs=["native"],
    extra_compile_args=["-O3", "-std=c11"],
    libraries=["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
