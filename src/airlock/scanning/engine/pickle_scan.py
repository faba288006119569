"""Judge pickle streams: run the emulator over every stream in a buffer and raise findings."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, Final

from . import profiles, rules
from .allowlist import Pair, is_dangerous, is_torchscript_class, profile_for
from .context import ScanContext
from .model import LimitExceeded
from .opcodes import LAYOUT, traces
from .pickle_values import Payload
from .pickle_vm import Call, Global, Machine, StreamResult

try:  # The compiled skimmer is optional: without it the emulator runs every stream.
    from . import _skim  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the build
    _skim = None

# A pickle hidden in a string, base64 (b"\x80\x02".."\x80\x05" encode to "gAI".."gAX") or hex.
# Two patterns with literal prefixes: the regex engine then skips ahead with a fast search.
_ENCODED_PICKLE: Final = (
    re.compile(rb"gA[I-X][A-Za-z0-9+/]{14,}={0,2}"),
    re.compile(rb"800[2-5](?:[0-9a-fA-F]{2}){7,}"),
)
_ENCODED_SCAN_MAX: Final = 64 << 20
TORCH_LEGACY_MAGIC: Final = bytes.fromhex("8a0a6cfc9c46f9206aa850192e")
# Stacked streams are cheap to follow; past this many the rest is reported, not skipped.
_MAX_STREAMS: Final = 4096
# Opcodes the skimmer stops at only when they cross a frame boundary (not imports, calls or
# bytes payloads that may hold a nested pickle).
_SKIM_ONLY: Final = frozenset(range(256)) - frozenset(b"ci\x93Rb\x81\x92o\x82\x83\x84PQCB\x8e\x96")


# Loaders that pickling itself writes with a literal payload: pickle.dumps of a tensor stores
# its storage as torch.storage._load_from_bytes(<torch.save bytes>). Accepted only when every
# call gets one literal bytes payload, which is then scanned like a file.
_NESTED_LOADERS: Final = frozenset({("torch.storage", "_load_from_bytes")})


def has_fast_core() -> bool:
    """True when the optional compiled opcode skimmer is available."""
    return _skim is not None


def looks_like_pickle(head: bytes) -> bool:
    """Whether the first bytes can start a pickle stream (protocol marker or a known opcode)."""
    if not head:
        return False
    if head[0] == 0x80:
        return len(head) > 1 and head[1] <= 5
    return head[0] in LAYOUT and head[0] not in (0x2E, 0x30, 0x31, 0x32)


def is_torch_legacy(head: bytes) -> bool:
    """PyTorch's legacy (non-zip) format starts with a pickled magic number."""
    return head[:2] == b"\x80\x02" and head[2:15] == TORCH_LEGACY_MAGIC


def _short(value: Any, depth: int = 0) -> str:
    # Evidence must stay readable and bounded whatever the attacker put in the arguments.
    if depth > 3:
        return "..."
    if isinstance(value, str):
        return repr(value if len(value) <= 200 else value[:200] + "...")
    if isinstance(value, tuple):
        inner = ", ".join(_short(v, depth + 1) for v in value[:8])
        return f"({inner}{', ...' if len(value) > 8 else ''}{',' if len(value) == 1 else ''})"
    if isinstance(value, list):
        inner = ", ".join(_short(v, depth + 1) for v in value[:8])
        return f"[{inner}{', ...' if len(value) > 8 else ''}]"
    if isinstance(value, dict):
        items = list(value.items())[:6]
        return (
            "{"
            + ", ".join(f"{_short(k, depth + 1)}: {_short(v, depth + 1)}" for k, v in items)
            + "}"
        )
    if isinstance(value, Call):
        return f"{_short(value.func, depth + 1)}(...)"
    return repr(value)[:200]


def _harmless(res: StreamResult) -> bool:
    if res.calls or res.extensions or res.builds_on_globals or res.dynamic_globals:
        return False
    return not any(is_dangerous(g.module, g.name) for g in res.globals)


def _globals_in(value: Any, depth: int = 0) -> list[Global]:
    if isinstance(value, Global):
        return [value]
    if isinstance(value, tuple) and depth < 2:
        return [g for v in value for g in _globals_in(v, depth + 1)]
    return []


def scan_pickle(
    ctx: ScanContext,
    buf: memoryview,
    location: str,
    *,
    profile: str = "any",
    start: int = 0,
    max_streams: int = _MAX_STREAMS,
    probe: bool = False,
    on_stream: Callable[[StreamResult], None] | None = None,
) -> int:
    """Scan every pickle stream in buf from start; return the offset where scanning stopped.

    With probe=True (content only guessed to be a pickle) a stream that fails before any
    import or call is not a pickle at all: -1 is returned and nothing is reported.
    """
    allowed = profile_for(profile)
    if ctx.limits.allow_globals:
        allowed = allowed | ctx.limits.allow_globals
    end = len(buf)
    lim = ctx.limits
    vm = Machine(buf, lim.max_stack, lim.max_memo, ctx.check_time, lim.max_marks)
    pos = start
    for n in range(max_streams):
        if pos >= end:
            break
        if n > 0 and not looks_like_pickle(bytes(buf[pos : pos + 2])):
            ctx.add(
                rules.TRAILING_DATA,
                f"{end - pos} bytes after the last pickle stream",
                location,
                offset=pos,
            )
            break
        try:
            res = _skim_or_run(vm, buf, pos, end)
        except LimitExceeded as exc:
            ctx.limit_hit(exc, location, pos)
            return end
        quiet = not (res.globals or res.calls or res.extensions or res.truncated)
        if n == 0 and probe and res.error is not None and _harmless(res):
            # Guessed from one byte and broken: text such as "config\nsettings\n" parses as
            # a GLOBAL. Without a call or a dangerous import it is data, not a pickle.
            return -1
        if n > 0 and res.error is not None and quiet:
            # Bytes after a complete stream that do not parse are data, not code.
            ctx.add(
                rules.TRAILING_DATA,
                f"{end - pos} bytes after the last pickle stream",
                location,
                offset=pos,
            )
            break
        _judge(ctx, buf, location, res, allowed, torchscript=profile == "torchscript")
        if on_stream is not None:
            on_stream(res)
        for off, length in res.nested:
            _scan_nested(ctx, buf[off : off + length], f"{location}@{off}")
        for off, data in res.nested_data:
            _scan_nested(ctx, memoryview(data), f"{location}@{off}")
        if res.end < 0:
            pos = end
            break
        pos = res.end
    else:
        if (
            pos < end
            and max_streams >= _MAX_STREAMS
            and looks_like_pickle(bytes(buf[pos : pos + 2]))
        ):
            ctx.limit_hit(
                LimitExceeded("max_streams", f"more than {max_streams} stacked pickle streams"),
                location,
                pos,
            )
    if len(buf) - start <= _ENCODED_SCAN_MAX and location.count("@") < 2:
        _encoded_pickles(ctx, buf, start, pos, location)
    return pos


def _scan_nested(ctx: ScanContext, data: memoryview, location: str) -> None:
    """A pickle or zip held in a bytes payload, scanned like a file the loader would open."""
    from .scan import scan_buffer  # scan imports this module: resolved at call time

    depth = location.count("!") + location.count("@")
    try:
        scan_buffer(ctx, data, location, depth)
    except LimitExceeded as exc:
        ctx.limit_hit(exc, location)


def _literal_loads(res: StreamResult, pair: Pair) -> bool:
    """Every use of the global is a direct call on one literal bytes payload (scanned above)."""
    sites = [
        s for s in res.calls if isinstance(s.func, Global) and (s.func.module, s.func.name) == pair
    ]
    if not sites or any(
        not (
            s.op == "REDUCE"
            and isinstance(s.args, tuple)
            and len(s.args) == 1
            and isinstance(s.args[0], Payload)
        )
        for s in sites
    ):
        return False
    passed_on = any(
        (g.module, g.name) == pair
        for s in res.calls
        if s.op != "BUILD"
        for g in _globals_in(s.args)
    )
    return not passed_on


def _encoded_pickles(
    ctx: ScanContext, buf: memoryview, start: int, end: int, location: str
) -> None:
    """Strings that decode to pickles which import or call something deserve a human look."""
    for m in (m for pat in _ENCODED_PICKLE for m in pat.finditer(buf, start, end)):
        raw = m.group(0)
        try:
            data = (
                base64.b64decode(raw + b"=" * (-len(raw) % 4))
                if raw[:1] == b"g"
                else bytes.fromhex(raw.decode())
            )
        except (binascii.Error, ValueError):
            continue
        inner = ScanContext(ctx.limits)
        inner.deadline = ctx.deadline
        scan_pickle(inner, memoryview(data), f"{location}@{m.start()}", max_streams=1)
        names = sorted({f.evidence.global_name for f in inner.findings if f.evidence.global_name})
        if names:
            enc = "base64" if raw[:1] == b"g" else "hex"
            ctx.add(
                rules.NESTED_PICKLE,
                f"a {enc} string holds a pickle that imports {', '.join(names[:5])}",
                location,
                offset=m.start(),
                global_name=names[0],
                detail=raw[:120].decode("ascii", "replace"),
            )


def _skim_or_run(vm: Machine, buf: memoryview, start: int, end: int) -> StreamResult:
    if _skim is not None:
        stop, hit, _err = _skim.skim(buf, start, end)
        if hit < 0 and stop > 0:
            # No opcode that can import or call anything: nothing in it can run on load.
            res = StreamResult(start, end=stop)
            return res
        res = vm.run(start, end)
        if hit >= 0 and buf[hit] in _SKIM_ONLY and hit not in res.straddles:
            # The skimmer stopped at an opcode that crosses a frame boundary; the emulator
            # only checks payload opcodes for that, so keep the skimmer's observation.
            res.straddles.append(hit)
        return res
    return vm.run(start, end)


def _judge(
    ctx: ScanContext,
    buf: memoryview,
    location: str,
    res: StreamResult,
    allowed: frozenset[Pair],
    *,
    torchscript: bool = False,
) -> None:
    called: dict[Pair, tuple[int, Any, str]] = {}
    # Calls that run __init__ or a function (REDUCE, INST, OBJ, a rebuild helper's argument),
    # as opposed to creating an instance through __new__ and giving it state.
    runs: dict[Pair, tuple[int, Any, str]] = {}
    for site in res.calls:
        f = site.func
        if isinstance(f, Global):
            pair = (f.module, f.name)
            called.setdefault(pair, (site.offset, site.args, site.op))
            if site.op not in profiles.NEW_ONLY_OPS and site.op != "BUILD":
                runs.setdefault(pair, (site.offset, site.args, site.op))
            # Allowlisted rebuild helpers call what they are given (copyreg._reconstructor,
            # numpy _reconstruct, torch _rebuild_from_type_v2...): a global passed as an
            # argument counts as called.
            if site.op != "BUILD":
                for arg in _globals_in(site.args):
                    via = f"{site.op} argument of {f.module}.{f.name}"
                    apair = (arg.module, arg.name)
                    called.setdefault(apair, (site.offset, site.args, via))
                    # Only the class a constructor helper is given is created without
                    # __init__; copyreg._reconstructor's base runs its __init__ on the state.
                    first = isinstance(site.args, tuple) and site.args and site.args[0] is arg
                    new_only = (pair in profiles.CONSTRUCTORS and first) or (
                        pair not in profiles.CONSTRUCTORS
                        and profiles.takes_classes(pair)
                        and profiles.is_state_class(apair)
                    )
                    if not new_only and pair not in profiles.WRAPPERS:
                        runs.setdefault(apair, (site.offset, site.args, via))
    pending: list[tuple[str, str, int | None, str | None, str | None]] = []
    seen: set[Pair] = set()
    for g in res.globals:
        pair = (g.module, g.name)
        if pair in seen or pair in allowed:
            continue
        if pair in res.resolved and pair not in called:
            continue  # only getattr(<global>, "<name>"): judged as that dotted global
        if pair in _NESTED_LOADERS and _literal_loads(res, pair):
            continue  # torch.load of a literal payload, which was scanned as a file
        if torchscript and is_torchscript_class(g.module):
            continue
        seen.add(pair)
        dotted = f"{g.module}.{g.name}"
        hit = called.get(pair)
        # Where the callable came from: the import's offset, then the call site's.
        origin = f"imported at offset {g.offset}"
        how = f" ({origin}) and calls it ({hit[2]} with {_short(hit[1])})" if hit else ""
        detail = _short(hit[1]) if hit else None
        dangerous = is_dangerous(g.module, g.name)
        if not dangerous and _profiled_ok(pair, runs, hit, pending, g.offset, dotted):
            continue
        if dangerous:
            msg = f"imports the dangerous global {dotted}{how or f' ({origin})'}"
            pending.append(
                (rules.DANGEROUS_GLOBAL, msg, hit[0] if hit else g.offset, dotted, detail)
            )
        elif hit:
            msg = (
                f"calls {dotted}, which is not in the allowlist "
                f"({origin}; {hit[2]} with {_short(hit[1])})"
            )
            pending.append((rules.UNSAFE_CALL, msg, hit[0], dotted, detail))
        else:
            msg = f"references {dotted}, which is not in the allowlist ({origin}, not called)"
            pending.append((rules.UNKNOWN_GLOBAL, msg, g.offset, dotted, None))
    for site in res.calls:
        if not isinstance(site.func, Global) and site.op != "BUILD":
            msg = f"{site.op} calls {_short(site.func)}, which is not a plain global"
            pending.append((rules.DYNAMIC_CALL, msg, site.offset, None, _short(site.args)))
    for g, off in res.builds_on_globals:
        msg = f"BUILD sets attributes on the global {g!r} itself"
        pending.append((rules.BUILD_ON_GLOBAL, msg, off, repr(g), None))
    for text, off in res.dynamic_globals:
        pending.append(
            (rules.DYNAMIC_GLOBAL, f"STACK_GLOBAL with non-string names {text}", off, text, None)
        )
    for off in res.extensions:
        pending.append(
            (
                rules.EXTENSION_CODE,
                "EXT opcode imports through the copyreg registry",
                off,
                None,
                None,
            )
        )
    for name, off in res.file_refs:
        # joblib joins the name to the pickle's folder; an absolute path or ".." leaves it.
        parts = name.replace("\\", "/").split("/")
        outside = name.startswith(("/", "\\")) or ".." in parts or name[1:2] == ":"
        rule = rules.FILE_OUTSIDE if outside else rules.FILE_BESIDE
        msg = f"joblib's old array wrapper makes the loader open {name!r:.120}" + (
            ", outside the model folder" if outside else " (np.load with pickles allowed)"
        )
        pending.append((rule, msg, off, name[:200], None))
    for off in res.truncated:
        msg = "FRAME runs past the end of the data (truncated file); its content was still read"
        pending.append((rules.PICKLE_PARSE, msg, off, None, None))
    for off in res.straddles:
        pending.append(
            (rules.FRAME_STRADDLE, "an opcode crosses a FRAME boundary", off, None, None)
        )
    if res.error is not None:
        seen_calls = len(res.calls)
        msg = f"stream could not be fully parsed: {res.error}"
        if seen_calls:
            msg += f" (after {seen_calls} call sites, judged above)"
        pending.append((rules.PICKLE_PARSE, msg, res.error_offset, None, None))
    if not pending:
        return
    offsets: set[int] = {p[2] for p in pending if p[2] is not None}
    walk_from = (
        res.start
        if not offsets or max(offsets) - res.start < 8 << 20
        else max(res.last_frame, res.start)
    )
    trace_map = traces(buf, walk_from, len(buf), offsets, ctx.limits.max_trace)
    for rule_id, msg, at, gname, detail in pending:
        ctx.add(
            rule_id,
            msg,
            location,
            offset=at,
            trace=trace_map.get(at, ()) if at is not None else (),
            global_name=gname,
            detail=detail,
        )


def _profiled_ok(
    pair: Pair,
    runs: dict[Pair, tuple[int, Any, str]],
    hit: tuple[int, Any, str] | None,
    pending: list[tuple[str, str, int | None, str | None, str | None]],
    offset: int,
    dotted: str,
) -> bool:
    """Judge a global against the generated library profiles; True when it is settled."""
    if profiles.is_emitted(pair):
        return True
    run = runs.get(pair)
    if run is None and profiles.is_state_class(pair):
        return True  # constructed without __init__ and given state, or only referenced
    lib = profiles.namespace_of(pair[0])
    if run is None and hit is not None and lib is not None:
        msg = (
            f"constructs {dotted} ({hit[2]}) and gives it state: a class inside the profiled "
            f"library {lib} that is not in its generated profile"
        )
        pending.append((rules.UNKNOWN_GLOBAL, msg, hit[0], dotted, None))
        return True
    if run is not None and profiles.is_state_class(pair):
        msg = (
            f"calls {dotted} ({run[2]} with {_short(run[1])}): the class is profiled only for "
            "being rebuilt from state, calling it runs its __init__"
        )
        pending.append((rules.UNSAFE_CALL, msg, run[0], dotted, _short(run[1])))
        return True
    return False
