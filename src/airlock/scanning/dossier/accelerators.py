"""Peak throughput of common training accelerators, each figure with the document it is from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Accelerator:
    """Peak dense 16-bit tensor throughput of one chip, with the document it comes from."""

    name: str
    aliases: tuple[str, ...]
    peak_flop_per_second: float
    source: str


# Dense (no structured sparsity) BF16/FP16 tensor-core peaks, as the vendors publish them.
ACCELERATORS: Final[tuple[Accelerator, ...]] = (
    Accelerator(
        "NVIDIA V100", ("v100",), 125e12, "NVIDIA Tesla V100 datasheet (SXM2, FP16 tensor)"
    ),
    Accelerator("NVIDIA A100", ("a100", "a800"), 312e12, "NVIDIA A100 Tensor Core GPU datasheet"),
    Accelerator(
        "NVIDIA H100 PCIe", ("h100pcie",), 756e12, "NVIDIA H100 Tensor Core GPU datasheet (PCIe)"
    ),
    Accelerator(
        "NVIDIA H100 SXM",
        ("h100", "h800", "h200", "gh200"),
        989e12,
        "NVIDIA H100 / H200 Tensor Core GPU datasheets (SXM, BF16 dense; 1,979 with sparsity)",
    ),
    Accelerator(
        "NVIDIA B200", ("b200",), 2.25e15, "NVIDIA HGX B200 datasheet (BF16 dense, per GPU)"
    ),
    Accelerator("Google TPU v3", ("tpuv3",), 123e12, "Google Cloud TPU v3 documentation"),
    Accelerator("Google TPU v4", ("tpuv4",), 275e12, "Google Cloud TPU v4 documentation"),
    Accelerator("Google TPU v5e", ("tpuv5e", "tpuv5lite"), 197e12, "Google Cloud TPU v5e docs"),
    Accelerator("Google TPU v5p", ("tpuv5p",), 459e12, "Google Cloud TPU v5p documentation"),
    Accelerator("AMD MI250X", ("mi250x", "mi250"), 383e12, "AMD Instinct MI250X datasheet"),
    Accelerator("AMD MI300X", ("mi300x",), 1307.4e12, "AMD Instinct MI300X datasheet"),
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_accelerator(name: str) -> Accelerator | None:
    """The table entry for an accelerator name such as "NVIDIA H100 SXM5 80GB"."""
    norm = _norm(name)
    best: tuple[int, Accelerator] | None = None
    for acc in ACCELERATORS:
        for alias in acc.aliases:
            if alias in norm and (best is None or len(alias) > best[0]):
                best = (len(alias), acc)
    return best[1] if best else None
