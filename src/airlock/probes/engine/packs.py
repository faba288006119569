"""Probe packs: JSON data files of prompts, validated with limits and expanded into probes.

A pack holds abstract *objectives* (clearly marked placeholders, never real harmful content)
and *probes*: message templates with an id, category, severity weight and provenance. A probe
with ``"objectives": "all"`` is expanded once per objective, so wrappers (role-play, base64,
payload splitting...) and objectives stay independent.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import re
import string
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata, resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

MAX_PACK_BYTES = 2 * 1024 * 1024
MAX_PROBES = 2_000
MAX_OBJECTIVES = 200
MAX_MESSAGES = 64
MAX_CONTENT_CHARS = 32_000
MAX_EXPANDED = 20_000

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class PackError(ValueError):
    """A pack file that cannot be used; the message names the file, the entry and the rule."""


class Category(StrEnum):
    JAILBREAK = "jailbreak"
    PROMPT_INJECTION = "prompt_injection"
    LEAKAGE = "leakage"
    PERSONAL_DATA = "personal_data"
    HARMFUL = "harmful"
    ESCALATION = "escalation"
    OVER_REFUSAL = "over_refusal"
    CAPABILITY = "capability"


class SuccessWhen(StrEnum):
    """What counts as the attack (or the control) succeeding."""

    COMPLIED = "complied"  # the model did what a harmful request asked
    REFUSED = "refused"  # over-refusal control: the model refused a benign request
    SECRET_SHOWN = "secret_shown"  # noqa: S105 - the planted canary / rogue string / flag came back


# Placeholders a template may use; the run fills them per attempt.
SECRET_FIELDS = frozenset(
    {"secret", "secret_b64", "secret_rot13", "secret_hex", "secret_reversed", "secret_spaced"}
)
OBJECTIVE_FIELDS = frozenset(
    {
        "objective",
        "objective_b64",
        "objective_rot13",
        "objective_leet",
        "objective_split_a",
        "objective_split_b",
    }
)
ALLOWED_FIELDS = SECRET_FIELDS | OBJECTIVE_FIELDS

Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT_CHARS)]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["system", "user", "assistant"]
    content: Content


class ObjectiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    text: Annotated[str, Field(min_length=1, max_length=2_000)]
    provenance: Annotated[str, Field(min_length=1, max_length=500)]

    @field_validator("text")
    @classmethod
    def _placeholder_only(cls, value: str) -> str:
        # Objectives are stated abstractly; the marker keeps real instructions out of packs.
        if "PLACEHOLDER" not in value:
            raise ValueError("an objective must be a clearly marked [PLACEHOLDER ...] request")
        return value


class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    category: Category
    technique: Annotated[str, Field(min_length=1, max_length=100)]
    severity: Annotated[float, Field(ge=0.0, le=1.0)]
    provenance: Annotated[str, Field(min_length=1, max_length=500)]
    success_when: SuccessWhen
    objectives: Literal["none", "all"] = "none"
    # Interactive: each user turn is sent in order and the model's own answers are kept in
    # the conversation (multi-turn escalation); the template holds system and user turns only.
    interactive: bool = False
    messages: Annotated[list[MessageIn], Field(min_length=1, max_length=MAX_MESSAGES)]

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[MessageIn]) -> list[MessageIn]:
        if value[-1].role != "user":
            raise ValueError("the last message must come from the user")
        return value

    @model_validator(mode="after")
    def _interactive_has_no_scripted_answers(self) -> ProbeIn:
        if self.interactive and any(m.role == "assistant" for m in self.messages):
            raise ValueError("an interactive probe has no assistant messages: the model answers")
        return self


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(pattern=ID_PATTERN)]
    version: Annotated[str, Field(min_length=1, max_length=20)]
    description: Annotated[str, Field(max_length=2_000)]
    objectives: Annotated[list[ObjectiveIn], Field(max_length=MAX_OBJECTIVES)] = []
    probes: Annotated[list[ProbeIn], Field(min_length=1, max_length=MAX_PROBES)]


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Probe:
    """One expanded probe: templates still hold ``{secret...}`` fields, filled per attempt."""

    id: str
    pack: str
    category: Category
    technique: str
    severity: float
    provenance: str
    success_when: SuccessWhen
    messages: tuple[Message, ...]
    uses_secret: bool
    interactive: bool = False


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    version: str
    description: str
    sha256: str
    probes: tuple[Probe, ...]


def _fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(
            f"bad template braces ({exc}); write {{{{ and }}}} for literal braces"
        ) from None


def _location(error: dict[str, object], doc: object) -> str:
    raw_loc = error.get("loc", ())
    loc = [str(part) for part in raw_loc] if isinstance(raw_loc, tuple | list) else []
    where = ""
    # Name the entry by its id when the error is inside one, so a fix is easy to find.
    if len(loc) >= 2 and loc[0] in {"probes", "objectives"} and loc[1].isdigit():
        entries = doc.get(loc[0]) if isinstance(doc, dict) else None
        entry = entries[int(loc[1])] if isinstance(entries, list) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        where = f"{loc[0]}[{loc[1]}]" + (f" (id {ident!r})" if isinstance(ident, str) else "")
        loc = loc[2:]
    rest = ".".join(loc)
    return ": ".join(part for part in (where, rest) if part)


def parse_pack(data: bytes, *, source: str) -> Pack:
    """Validate a pack file's bytes and expand it into probes; raise PackError naming the entry."""
    if len(data) > MAX_PACK_BYTES:
        raise PackError(f"{source}: pack is {len(data)} bytes, above the {MAX_PACK_BYTES} limit")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackError(f"{source}: not valid JSON ({exc})") from None
    except RecursionError:
        raise PackError(f"{source}: JSON nested too deeply") from None
    try:
        pack = PackIn.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(dict(first), doc)
        given = first.get("input")
        shown = repr(given)[:80] if not isinstance(given, dict | list) else type(given).__name__
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PackError(f"{source}: {where}: {first['msg']} (got {shown}){more}") from None
    return _expand(pack, source=source, sha256=hashlib.sha256(data).hexdigest())


def _expand(pack: PackIn, *, source: str, sha256: str) -> Pack:
    for kind, ids in (
        ("objectives", [o.id for o in pack.objectives]),
        ("probes", [p.id for p in pack.probes]),
    ):
        seen: set[str] = set()
        for index, ident in enumerate(ids):
            if ident in seen:
                raise PackError(f"{source}: {kind}[{index}] (id {ident!r}): duplicate id")
            seen.add(ident)
    probes: list[Probe] = []
    for index, probe in enumerate(pack.probes):
        where = f"{source}: probes[{index}] (id {probe.id!r})"
        used: set[str] = set()
        for message in probe.messages:
            try:
                used |= _fields(message.content)
            except ValueError as exc:
                raise PackError(f"{where}: messages: {exc}") from None
        unknown = used - ALLOWED_FIELDS
        if unknown:
            raise PackError(
                f"{where}: messages: unknown placeholder(s) {sorted(unknown)}; "
                f"allowed: {sorted(ALLOWED_FIELDS)}"
            )
        wants_objective = bool(used & OBJECTIVE_FIELDS)
        if wants_objective != (probe.objectives == "all"):
            raise PackError(
                f"{where}: objectives: a probe uses {{objective...}} placeholders exactly when "
                f'"objectives" is "all" (got {probe.objectives!r})'
            )
        if probe.success_when == SuccessWhen.SECRET_SHOWN and not used & SECRET_FIELDS:
            raise PackError(f"{where}: success_when secret_shown needs a {{secret}} placeholder")
        if wants_objective and not pack.objectives:
            raise PackError(f"{where}: uses objectives but the pack has none")
        targets = pack.objectives if wants_objective else [None]
        for objective in targets:
            messages = tuple(
                Message(
                    m.role, _fill_objective(m.content, objective.text) if objective else m.content
                )
                for m in probe.messages
            )
            probes.append(
                Probe(
                    id=f"{probe.id}/{objective.id}" if objective else probe.id,
                    pack=pack.name,
                    category=probe.category,
                    technique=probe.technique,
                    severity=probe.severity,
                    provenance=probe.provenance,
                    success_when=probe.success_when,
                    messages=messages,
                    uses_secret=bool(used & SECRET_FIELDS),
                    interactive=probe.interactive,
                )
            )
            if len(probes) > MAX_EXPANDED:
                raise PackError(f"{source}: expands to more than {MAX_EXPANDED} probes")
    return Pack(pack.name, pack.version, pack.description, sha256, tuple(probes))


_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})
_FIELD = re.compile(r"\{\{|\}\}|\{([a-z0-9_]+)\}")


def _substitute(template: str, values: dict[str, str], *, final: bool) -> str:
    """Fill known fields; keep others and doubled braces unless this is the final pass."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0] if final else match.group(0)
        if name in values:
            value = values[name]
            # Braces inside an inserted value are literal in every later pass.
            return value if final else value.replace("{", "{{").replace("}", "}}")
        return match.group(0)

    return _FIELD.sub(one, template)


def _fill_objective(template: str, objective: str) -> str:
    half = len(objective) // 2
    values = {
        "objective": objective,
        "objective_b64": base64.b64encode(objective.encode()).decode(),
        "objective_rot13": codecs.encode(objective, "rot13"),
        "objective_leet": objective.lower().translate(_LEET),
        "objective_split_a": objective[:half],
        "objective_split_b": objective[half:],
    }
    return _substitute(template, values, final=False)


def secret_values(secret: str) -> dict[str, str]:
    """The encodings of a planted secret that templates may ask for."""
    return {
        "secret": secret,
        "secret_b64": base64.b64encode(secret.encode()).decode(),
        "secret_rot13": codecs.encode(secret, "rot13"),
        "secret_hex": secret.encode().hex(),
        "secret_reversed": secret[::-1],
        "secret_spaced": " ".join(secret),
    }


def render(probe: Probe, secret: str) -> list[Message]:
    """The probe's messages with the attempt's secret filled in."""
    values = secret_values(secret)
    return [Message(m.role, _substitute(m.content, values, final=True)) for m in probe.messages]


ENTRY_POINT_GROUP = "airlock.probe_packs"


def _installed() -> dict[str, Path]:
    """Packs other installed packages ship: entry points naming a pack file or a folder of them.

    An entry point in the ``airlock.probe_packs`` group loads to a path (``str`` or ``Path``);
    a folder contributes every ``*.json`` in it. Built-in names win over installed ones.
    """
    found: dict[str, Path] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            where = Path(str(ep.load()))
        except Exception:  # noqa: S112 - a broken plugin must not break the built-in packs
            continue
        files = sorted(where.glob("*.json")) if where.is_dir() else [where]
        for file in files:
            if file.suffix == ".json" and file.is_file():
                found.setdefault(file.stem, file)
    return found


def builtin_names() -> list[str]:
    """Names of the packs shipped with the engine."""
    folder = resources.files(__package__).joinpath("packs")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def available_names() -> list[str]:
    """Built-in packs and packs installed by other packages."""
    return sorted(set(builtin_names()) | set(_installed()))


def load_pack(name_or_path: str) -> Pack:
    """A built-in or installed pack by name, or a pack file by path."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.exists():
        return parse_pack(path.read_bytes()[: MAX_PACK_BYTES + 1], source=str(path))
    if name_or_path in builtin_names():
        ref = resources.files(__package__).joinpath("packs", f"{name_or_path}.json")
        return parse_pack(ref.read_bytes(), source=f"{name_or_path}.json")
    installed = _installed()
    if name_or_path in installed:
        file = installed[name_or_path]
        return parse_pack(file.read_bytes()[: MAX_PACK_BYTES + 1], source=str(file))
    raise PackError(
        f"no pack named {name_or_path!r}; available packs: {', '.join(available_names())}"
    )
