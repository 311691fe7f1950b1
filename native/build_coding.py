"""cffi out-of-line API build of the CCSDS channel-coding kernels (run by setuptools during install)."""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent
ffibuilder = FFI()
ffibuilder.cdef((HERE / "coding.h").read_text().replace("#include <stddef.h>", "").replace("#include <stdint.h>", ""))
ffibuilder.set_source(
    "native._coding",
    '#include "coding.h"',
    sources=["native/rs.c"],
    include_dirs=["native"],
    extra_compile_args=["-O3", "-std=gnu11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
