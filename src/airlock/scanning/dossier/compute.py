"""Training compute: estimates with a range, cumulative over stages, against the thresholds.

Pure arithmetic, shared with the coverage registry: `dense_flop`, `hardware_flop`,
`estimate`, `threshold_status` take numbers and return numbers. `check_compute` reads a
dossier (sections C and D) and returns a report whose results become findings.

Conventions follow Epoch AI's (reference notes §8): C ≈ 6·N·D for dense transformers, the
active parameters for mixture-of-experts, or time x chips x peak FLOP/s x utilisation; one
FMA = 2 FLOP; no precision adjustment; fine-tuning and RL stages are added, because the EU
and California SB 53 thresholds count cumulative compute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .accelerators import ACCELERATORS, Accelerator, find_accelerator
from .results import CheckReport, CheckResult, DossierView, Severity, number_or_problem

__all__ = [
    "ACCELERATORS",
    "THRESHOLDS",
    "Accelerator",
    "Estimate",
    "Quantity",
    "check_compute",
    "cumulative",
    "dense_flop",
    "find_accelerator",
    "hardware_estimate",
    "hardware_flop",
    "operation_counting",
    "threshold_status",
]

CHECK: Final = "compute"
VERSION: Final = "1.0.0"

# (threshold, what crossing it means); reference notes §1 and §3.
THRESHOLDS: Final[tuple[tuple[float, str], ...]] = (
    (1e23, "EU: indicative criterion for a general-purpose AI model (Commission guidelines)"),
    (1e25, "EU AI Act Art. 51: systemic risk presumed"),
    (1e26, "California SB 53: frontier model"),
)


# Epoch's 2022 guidance assumes 30% utilisation for language models when none is reported;
# the 20-50% band around it is Airlock's policy for the range.
DEFAULT_UTILISATION: Final = (0.3, 0.2, 0.5)

# Relative uncertainty of an input by its provenance, when the dossier states no range
# (Airlock policy, shown with every estimate).
UNCERTAINTY_BY_PROVENANCE: Final[Mapping[str, float]] = {
    "measured": 0.05,
    "self_reported": 0.1,
    "third_party": 0.2,
    "estimated": 0.3,
}
DEFAULT_UNCERTAINTY: Final = 0.1

# Plausibility bounds on inputs: beyond them the number is a unit mistake, not a model.
_BOUNDS: Final[Mapping[str, tuple[float, float]]] = {
    "parameters": (1e5, 1e15),
    "tokens": (1e6, 1e17),
    "flop": (1e12, 1e32),
    "chips": (1, 1e8),
    "hours": (0.01, 1e6),
    "peak_flop_per_second": (1e9, 1e20),
}

FINE_TUNING_KINDS: Final = frozenset(
    {"supervised_fine_tuning", "preference_optimisation", "reinforcement_learning"}
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value with a relative uncertainty: low = v·(1-u), high = v·(1+u)."""

    value: float
    uncertainty: float = 0.0

    @property
    def low(self) -> float:
        """The value at the low end of its stated uncertainty."""
        return self.value * max(0.0, 1.0 - self.uncertainty)

    @property
    def high(self) -> float:
        """The value at the high end of its stated uncertainty."""
        return self.value * (1.0 + self.uncertainty)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A FLOP estimate: central value, range, the method and the inputs it used."""

    method: str
    central: float
    low: float
    high: float
    inputs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping."""
        return {
            "label": self.label,
            "method": self.method,
            "central": self.central,
            "low": self.low,
            "high": self.high,
            "inputs": dict(self.inputs),
        }


def dense_flop(parameters: float, tokens: float) -> float:
    """6·N·D: forward (2ND) and backward (4ND) passes of a dense transformer."""
    return 6.0 * parameters * tokens


def hardware_flop(
    chips: float, hours: float, peak_flop_per_second: float, utilisation: float
) -> float:
    """Chips x seconds x peak FLOP/s x utilisation."""
    return chips * hours * 3600.0 * peak_flop_per_second * utilisation


def operation_counting(parameters: Quantity, tokens: Quantity, *, label: str = "") -> Estimate:
    """6·N·D with its range from the inputs' uncertainty (N active for mixture-of-experts)."""
    return Estimate(
        method="6ND",
        central=dense_flop(parameters.value, tokens.value),
        low=dense_flop(parameters.low, tokens.low),
        high=dense_flop(parameters.high, tokens.high),
        inputs={"parameters": parameters.value, "tokens": tokens.value},
        label=label,
    )


def hardware_estimate(
    chips: Quantity,
    hours: Quantity,
    peak: Quantity,
    utilisation: Quantity | tuple[float, float, float],
    *,
    label: str = "",
) -> Estimate:
    """Chips x hours x peak x utilisation; utilisation may be (central, low, high)."""
    if isinstance(utilisation, Quantity):
        u_mid, u_low, u_high = utilisation.value, utilisation.low, min(1.0, utilisation.high)
    else:
        u_mid, u_low, u_high = utilisation
    return Estimate(
        method="hardware",
        central=hardware_flop(chips.value, hours.value, peak.value, u_mid),
        low=hardware_flop(chips.low, hours.low, peak.low, u_low),
        high=hardware_flop(chips.high, hours.high, peak.high, u_high),
        inputs={
            "chips": chips.value,
            "hours": hours.value,
            "peak_flop_per_second": peak.value,
            "utilisation": u_mid,
        },
        label=label,
    )


def cumulative(stages: Sequence[Estimate], *, label: str = "cumulative") -> Estimate:
    """The sum over training stages, fine-tuning included: central, low and high add up."""
    return Estimate(
        method="+".join(sorted({s.method for s in stages})) or "none",
        central=sum(s.central for s in stages),
        low=sum(s.low for s in stages),
        high=sum(s.high for s in stages),
        inputs={"stages": [s.label for s in stages]},
        label=label,
    )


def threshold_status(low: float, high: float, threshold: float) -> str:
    """ "above" when the whole range is at or over the threshold, "below", else "straddles"."""
    if low >= threshold:
        return "above"
    if high < threshold:
        return "below"
    return "straddles"


# --- reading a dossier -------------------------------------------------------------------


class _Inputs:
    """Collects numbers from a dossier, and a result for every one that cannot be used."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def problem(self, where: str, message: str, given: Any) -> None:
        self.results.append(
            CheckResult(
                rule_id="DOS-CMP-003",
                check=CHECK,
                severity=Severity.LOW,
                title="A compute input in the dossier cannot be used",
                message=message,
                location=where,
                key=where,
                details={"given": str(given)[:80]},
            )
        )

    def quantity(self, node: Any, *, where: str, kind: str, unit: str) -> Quantity | None:
        value = DossierView.unwrap(node)
        num, err = number_or_problem(value, where=where, unit=unit)
        if err:
            self.problem(where, err, value)
            return None
        if num is None:
            return None
        low, high = _BOUNDS.get(kind, (0.0, float("inf")))
        if not low <= num <= high:
            self.problem(
                where,
                f"{where}: {num:.3g} {unit} is outside the plausible {low:.0e}-{high:.0e}; "
                "write plain counts (not millions or billions) and the unit asked for",
                value,
            )
            return None
        prov = DossierView.provenance(node) or ""
        return Quantity(num, UNCERTAINTY_BY_PROVENANCE.get(prov, DEFAULT_UNCERTAINTY))


def _node(mapping: Mapping[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _parameters(view: DossierView, inp: _Inputs) -> tuple[Quantity | None, bool]:
    c = view.section("C")
    moe = view.field("C", "architecture") == "mixture_of_experts_transformer"
    total = inp.quantity(
        _node(c, "parameters_total"),
        where="sections.C.parameters_total",
        kind="parameters",
        unit="parameters",
    )
    active = inp.quantity(
        _node(c, "parameters_active"),
        where="sections.C.parameters_active",
        kind="parameters",
        unit="parameters",
    )
    if moe and active is None and total is not None:
        inp.problem(
            "sections.C.parameters_active",
            "sections.C.parameters_active: a mixture-of-experts model needs its active "
            "parameters for 6·N·D; the total was used, which overestimates compute",
            None,
        )
    return (active or total) if moe else (total or active), moe


def _stage_estimates(
    view: DossierView, inp: _Inputs, params: Quantity | None
) -> tuple[list[Estimate], list[tuple[str, float]]]:
    estimates: list[Estimate] = []
    declared: list[tuple[str, float]] = []  # (stage label, declared FLOP) to compare
    stages = view.items("D", "stages")
    if not stages:
        tokens = inp.quantity(
            _node(view.section("D"), "training_tokens"),
            where="sections.D.training_tokens",
            kind="tokens",
            unit="tokens",
        )
        if params is not None and tokens is not None:
            estimates.append(operation_counting(params, tokens, label="training"))
        return estimates, declared
    for i, stage in enumerate(stages):
        where = f"sections.D.stages.{i}"
        name = DossierView.unwrap(stage.get("name"))
        label = str(name)[:80] if isinstance(name, str) else f"stage {i + 1}"
        tokens = inp.quantity(
            stage.get("tokens"), where=f"{where}.tokens", kind="tokens", unit="tokens"
        )
        flop = inp.quantity(stage.get("flop"), where=f"{where}.flop", kind="flop", unit="FLOP")
        if params is not None and tokens is not None:
            estimates.append(operation_counting(params, tokens, label=label))
            if flop is not None:
                declared.append((label, flop.value))
        elif flop is not None:
            estimates.append(
                Estimate("reported", flop.value, flop.low, flop.high, {"flop": flop.value}, label)
            )
        else:
            inp.problem(
                f"{where}",
                f"{where}: stage {label!r} states neither tokens nor FLOP, so the cumulative "
                "estimate leaves it out",
                None,
            )
    return estimates, declared


def _hardware(view: DossierView, inp: _Inputs) -> Estimate | None:
    hw = view.section("D").get("hardware")
    if not isinstance(hw, Mapping):
        return None
    base = "sections.D.hardware"
    chips = inp.quantity(
        hw.get("accelerator_count"), where=f"{base}.accelerator_count", kind="chips", unit="chips"
    )
    hours = inp.quantity(
        hw.get("training_hours"), where=f"{base}.training_hours", kind="hours", unit="hours"
    )
    peak = inp.quantity(
        hw.get("peak_flop_per_second"),
        where=f"{base}.peak_flop_per_second",
        kind="peak_flop_per_second",
        unit="FLOP/s",
    )
    source = "dossier"
    name = DossierView.unwrap(hw.get("accelerator"))
    if peak is None and isinstance(name, str):
        acc = find_accelerator(name)
        if acc is not None:
            peak, source = Quantity(acc.peak_flop_per_second), acc.source
        else:
            inp.problem(
                f"{base}.accelerator",
                f"{base}.accelerator: {name[:60]!r} is not in the accelerator table and no "
                "peak_flop_per_second is given",
                name,
            )
    if chips is None or hours is None or peak is None:
        return None
    util_node = hw.get("utilisation")
    util_value = DossierView.unwrap(util_node)
    utilisation: Quantity | tuple[float, float, float]
    if isinstance(util_value, int | float) and not isinstance(util_value, bool):
        if not 0 < util_value <= 1:
            inp.problem(
                f"{base}.utilisation",
                f"{base}.utilisation: a fraction between 0 and 1 (got {util_value!r}; "
                "40% is written 0.4)",
                util_value,
            )
            return None
        prov = DossierView.provenance(util_node) or ""
        utilisation = Quantity(
            float(util_value), UNCERTAINTY_BY_PROVENANCE.get(prov, DEFAULT_UNCERTAINTY)
        )
    else:
        utilisation = DEFAULT_UTILISATION
    est = hardware_estimate(chips, hours, peak, utilisation, label="hardware")
    return Estimate(
        est.method,
        est.central,
        est.low,
        est.high,
        {**est.inputs, "peak_source": source},
        "hardware",
    )


def _result(
    rule_id: str, severity: Severity, title: str, message: str, where: str, key: str, **details: Any
) -> CheckResult:
    return CheckResult(rule_id, CHECK, severity, title, message, where, key, details)


def check_compute(doc: Mapping[str, Any] | None) -> CheckReport:
    """Estimate the dossier's training compute and compare it with its figure and thresholds."""
    view = DossierView(doc)
    inp = _Inputs()
    params, moe = _parameters(view, inp)
    stage_estimates, stage_declared = _stage_estimates(view, inp, params)
    estimates: list[Estimate] = []
    if stage_estimates:
        estimates.append(cumulative(stage_estimates, label="operation counting, all stages"))
    hardware = _hardware(view, inp)
    if hardware is not None:
        estimates.append(hardware)
    declared = inp.quantity(
        _node(view.section("D"), "training_flop"),
        where="sections.D.training_flop",
        kind="flop",
        unit="FLOP",
    )
    results = list(inp.results)
    kinds = [DossierView.unwrap(s.get("kind")) for s in view.items("D", "stages")]
    summary: dict[str, Any] = {
        "includes_fine_tuning": any(k in FINE_TUNING_KINDS for k in kinds),
        "mixture_of_experts": moe,
        "stages": [s.to_dict() for s in stage_estimates],
        "estimates": [e.to_dict() for e in estimates],
        "thresholds": [],
        "policy": {
            "default_utilisation": DEFAULT_UTILISATION,
            "uncertainty_by_provenance": dict(UNCERTAINTY_BY_PROVENANCE),
        },
    }
    if not estimates:
        summary["range"] = None
        if declared is None:
            results.append(
                _result(
                    "DOS-CMP-004",
                    Severity.MEDIUM,
                    "Training compute cannot be estimated",
                    "the dossier gives neither parameters and tokens nor hardware and time, "
                    "and no training FLOP figure",
                    "sections.D",
                    "no-estimate",
                )
            )
        return CheckReport(CHECK, VERSION, summary, tuple(results))
    low, high = min(e.low for e in estimates), max(e.high for e in estimates)
    central = estimates[0].central
    summary["range"] = {"central": central, "low": low, "high": high}
    if declared is not None:
        summary["declared"] = declared.value
        if not low <= declared.value <= high:
            results.append(
                _result(
                    "DOS-CMP-001",
                    Severity.MEDIUM,
                    "Declared training compute is outside the estimated range",
                    f"the dossier declares {declared.value:.3g} FLOP; the estimate from its own "
                    f"inputs is {low:.3g}-{high:.3g} FLOP (central {central:.3g})",
                    "sections.D.training_flop",
                    "training_flop",
                    declared=declared.value,
                    declared_source="sections.D.training_flop",
                    estimate={"central": central, "low": low, "high": high},
                    methods=[e.method for e in estimates],
                )
            )
    for label, flop in stage_declared:
        est = next(e for e in stage_estimates if e.label == label)
        if not est.low <= flop <= est.high:
            results.append(
                _result(
                    "DOS-CMP-001",
                    Severity.LOW,
                    "Declared stage compute is outside the estimated range",
                    f"stage {label!r} declares {flop:.3g} FLOP; 6·N·D gives "
                    f"{est.low:.3g}-{est.high:.3g} FLOP",
                    "sections.D.stages",
                    f"stage:{label}",
                    declared=flop,
                    estimate=est.to_dict(),
                )
            )
    for threshold, meaning in THRESHOLDS:
        status = threshold_status(low, high, threshold)
        summary["thresholds"].append({"threshold": threshold, "meaning": meaning, "status": status})
        if status == "below":
            continue
        declared_value = declared.value if declared is not None else None
        declared_below = declared_value is not None and declared_value < threshold
        results.append(
            _result(
                "DOS-CMP-002",
                Severity.MEDIUM if declared_below else Severity.INFO,
                "Training compute reaches a regulatory threshold"
                if status == "above"
                else "Training compute may reach a regulatory threshold",
                f"estimated {low:.3g}-{high:.3g} FLOP is {status} {threshold:.0e} FLOP "
                f"({meaning})"
                + (f"; the dossier declares {declared_value:.3g} FLOP" if declared_below else ""),
                "sections.D",
                f"threshold:{threshold:.0e}",
                threshold=threshold,
                status=status,
                estimate={"central": central, "low": low, "high": high},
            )
        )
    return CheckReport(CHECK, VERSION, summary, tuple(results))
