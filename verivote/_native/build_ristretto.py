"""cffi build script for verivote's compiled ristretto255 backend.

``setup.py`` names it in ``cffi_modules``; it compiles ``ristretto.c`` into the extension
module ``verivote._native._ristretto`` (cffi's API mode: the C compiler checks every call).
Run directly (``python verivote/_native/build_ristretto.py``) to build it in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

# The declarations Python may call, as in ristretto.h (cffi's parser takes no preprocessor
# lines, so the header's prototypes are repeated here).
CDEF = """
int vv_is_valid(const unsigned char p[32]);
int vv_add(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]);
int vv_sub(unsigned char out[32], const unsigned char a[32], const unsigned char b[32]);
int vv_neg(unsigned char out[32], const unsigned char a[32]);
int vv_scalarmult(unsigned char out[32], const unsigned char k[32], const unsigned char p[32]);
int vv_msm(unsigned char out[32], const unsigned char *scalars, const unsigned char *points,
           size_t n);
int vv_sum(unsigned char out[32], const unsigned char *points, size_t n);
int vv_sum_runs(unsigned char *out, const unsigned char *points, size_t k, size_t m);
size_t vv_valid_flags(unsigned char *flags, const unsigned char *points, size_t n);
void vv_from_uniform(unsigned char out[32], const unsigned char h[64]);
int vv_to_edwards(unsigned char out[32], const unsigned char p[32]);
int vv_from_edwards(unsigned char out[32], const unsigned char e[32]);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "verivote._native._ristretto",
    '#include "ristretto.h"',
    # Relative to the project root, where setup.py runs; setuptools refuses absolute paths.
    sources=["verivote/_native/ristretto.c"],
    include_dirs=["verivote/_native"],
    extra_compile_args=[] if sys.platform == "win32" else ["-std=c99", "-O3"],
)

if __name__ == "__main__":
    import os

    os.chdir(HERE.parent.parent)
    ffibuilder.compile(tmpdir=".", verbose=True)
