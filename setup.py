"""Native fast paths for bulk imports (optional C extensions; metadata is in pyproject.toml).

Each extension has a pure-Python twin that gives the same results: where no C compiler is at
hand the build skips the extension (``optional=True``) and the importers stay correct, only
slower. ``make install`` rebuilds them when their sources change.
"""

from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
TAPE = "fundtrace/native/json_tape.c"
NATIVE = {
    "fundtrace.chains.eth._bulk_native": ["fundtrace/chains/eth/bulk_native.c", TAPE],
    "fundtrace.chains.btc._getblock_native": ["fundtrace/chains/btc/getblock_native.c", TAPE],
}

setup(
    ext_modules=[
        Extension(
            name,
            sources=sources,
            include_dirs=["fundtrace/native"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
        for name, sources in NATIVE.items()
        if all((HERE / s).exists() for s in sources)
    ]
)
