"""Optional compiled core for the artifact scanner; everything else is configured in pyproject.toml.

The extension is optional: when no compiler is available the build goes on without it and
the scanner uses its pure-Python emulator for every pickle stream.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "airlock.scanning.engine._skim",
            ["src/airlock/scanning/engine/_skim.c"],
            optional=True,
        )
    ]
)
