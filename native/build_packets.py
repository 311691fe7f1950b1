"""cffi out-of-line API build of the packet kernels (run by setuptools during install)."""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent
ffibuilder = FFI()
ffibuilder.cdef((HERE / "packets.h").read_text().replace("#include <stddef.h>", "").replace("#include <stdint.h>", ""))
ffibuilder.set_source(
    "native._packets",
    '#include "packets.h"',
    sources=["native/packets.c"],
    include_dirs=["native"],
    extra_compile_args=["-O3", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
