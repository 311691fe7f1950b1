"""Only here for the cffi build: every native/build_*.py compiles during install (out-of-line API mode)."""
from pathlib import Path

from setuptools import setup

setup(cffi_modules=[f"native/{p.name}:ffibuilder" for p in sorted(Path("native").glob("build_*.py"))])
