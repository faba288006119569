"""The container and model-format track of the adversarial corpus (see __init__.Case).

Classes: compressed-streams, archives, bombs (containers.py); keras, tensorflow, onnx,
gguf-jinja (models.py). Benign files are written by the real libraries (zipfile, tarfile,
gzip/bz2/lzma, zstandard, lz4, joblib, numpy, torch, keras, h5py, onnx, gguf, protobuf).
"""

from __future__ import annotations

from . import Case
from .containers import archive_cases, bomb_cases, stream_cases
from .models import gguf_cases, keras_cases, onnx_cases, tensorflow_cases


def cases() -> list[Case]:
    """Every case of this track."""
    return [
        *stream_cases(),
        *archive_cases(),
        *bomb_cases(),
        *keras_cases(),
        *tensorflow_cases(),
        *onnx_cases(),
        *gguf_cases(),
    ]
