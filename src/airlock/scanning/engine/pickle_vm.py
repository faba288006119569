"""Emulate the pickle machine over bytes without unpickling: stack, memo, marks and frames.

Values are stand-ins: strings, small ints and tuples are kept (they name globals and show
call arguments as evidence); lists, sets and big payloads are opaque; dicts keep their first
few items. Globals become `Global` values and calls become `Call` values that remember where
their callable came from, so every call site can be judged against the allowlist.
"""

from __future__ import annotations

import contextlib
import re
import struct
from typing import Any, Final

from .model import LimitExceeded, ParseError
from .opcodes import NAMES, find_newline
from .pickle_values import (
    BIG,
    BUFFER,
    BYTES,
    DICT_KEEP,
    EXT,
    FLOAT,
    PERS,
    SET,
    Call,
    CallSite,
    Global,
    Payload,
    StreamResult,
    compat_name,
    joblib_nbytes,
    nested_file,
)

__all__ = ["Call", "Global", "Machine", "StreamResult"]


_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_F64 = struct.Struct(">d").unpack_from
_CHECK_EVERY: Final = 1 << 18


_DOTTED = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")


def _line(buf: memoryview, i: int, end: int) -> tuple[str, int]:
    j = find_newline(buf, i, end)
    return str(buf[i:j], "utf-8"), j + 1


def _name_line(buf: memoryview, i: int, end: int) -> tuple[str, int]:
    # GLOBAL and INST names that are not dotted identifiers cannot be imported: loading fails
    # right there, so the stream is treated as broken (or as not a pickle at all).
    text, j = _line(buf, i, end)
    if not _DOTTED.fullmatch(text):
        raise ParseError(f"GLOBAL name {text[:40]!r} is not a dotted identifier", i)
    return text, j


def _decode_string_repr(raw: str, offset: int, *, escapes: bool = False) -> str:
    # Protocol 0 STRING is a quoted Python literal: CPython strips the quotes and then decodes
    # backslash escapes (codecs.escape_decode), so "o\\x73" names the module "os".
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        body = raw[1:-1]
        if escapes and "\\" in body:
            import codecs

            try:
                decoded: bytes = codecs.escape_decode(body.encode("latin-1"))[0]
            except ValueError as exc:
                raise ParseError(f"STRING escape is invalid: {exc}", offset) from exc
            return decoded.decode("latin-1")
        return body
    raise ParseError("STRING argument is not quoted", offset)


_GETATTR: Final = frozenset({("builtins", "getattr"), ("__builtin__", "getattr")})


def _constant_getattr(func: Any, args: Any) -> str | None:
    """The attribute name of getattr(<global>, "<identifier>"), else None."""
    if not (isinstance(func, Global) and (func.module, func.name) in _GETATTR):
        return None
    if not (isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], Global)):
        return None
    name = args[1]
    if isinstance(name, str) and name.isidentifier() and not name.startswith("__"):
        return name
    return None


def _latin1_bytes(func: Any, args: Any) -> bytes | None:
    """The bytes of _codecs.encode(<text>, "latin1") when they start like a pickle or a zip."""
    if not (isinstance(func, Global) and (func.module, func.name) == ("_codecs", "encode")):
        return None
    if not (isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str)):
        return None
    if args[1] not in ("latin1", "latin-1") or args[0][:1] not in ("\x80", "P"):
        return None
    try:
        data = args[0].encode("latin-1")
    except UnicodeEncodeError:
        return None
    return data if nested_file(data) else None


class Machine:
    """One emulated unpickler over a buffer; run() follows one stream up to its STOP."""

    def __init__(
        self,
        buf: memoryview,
        limits_stack: int,
        limits_memo: int,
        check: Any,
        max_marks: int = 1 << 20,
    ) -> None:
        self.buf = buf
        self.max_marks = max_marks
        self.max_stack = limits_stack
        self.max_memo = limits_memo
        self.check = check  # called every so often: raises LimitExceeded on timeout

    def run(self, start: int, end: int) -> StreamResult:
        """Follow one stream from start; errors end the stream and are recorded, not raised."""
        res = StreamResult(start)
        try:
            self._run(res, start, end)
        except ParseError as exc:
            res.error, res.error_offset = str(exc), exc.offset
        except struct.error:
            res.error = "pickle is truncated inside an opcode argument"
        except (IndexError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            res.error = f"malformed pickle: {type(exc).__name__}: {exc}"
        return res

    def _run(self, res: StreamResult, start: int, end: int) -> None:
        buf = self.buf
        stack: list[Any] = []
        push = stack.append
        marks: list[int] = []
        # A plain dict, like CPython's unpickler: data-only streams (where a memo of millions
        # of strings would cost memory) never get here when the compiled skimmer is present.
        memo: dict[int, Any] = {}
        max_memo = self.max_memo
        res_globals = res.globals
        calls = res.calls
        frame_end = -1
        next_check = start + _CHECK_EVERY
        i = start
        op = -1
        pos = start

        def memo_put(idx: int, value: Any) -> None:
            if len(memo) >= max_memo:
                raise LimitExceeded("max_memo", f"pickle memo above {max_memo} entries")
            memo[idx] = value

        def memo_get(idx: int) -> Any:
            try:
                return memo[idx]
            except KeyError:
                raise ParseError(f"memo key {idx} was never stored", pos) from None

        def pop_mark() -> list[Any]:
            if not marks:
                raise ParseError("could not find MARK", pos)
            m = marks.pop()
            items = stack[m:]
            del stack[m:]
            return items

        def pop() -> Any:
            if len(stack) <= (marks[-1] if marks else 0):
                raise ParseError("unpickling stack underflow", pos)
            return stack.pop()

        def call(func: Any, args: Any, opname: str) -> Call:
            calls.append(CallSite(func, args, opname, pos))
            return Call(func, args, opname, pos)

        def global_(module: str, name: str) -> Global:
            # Unpickler.find_class maps Python 2 names while the stream's protocol is below 3
            # (fix_imports): judge the name the loader really imports.
            if res.protocol < 3:
                module, name = compat_name(module, name)
            g = Global(module, name, pos)
            res_globals.append(g)
            return g

        while i < end:
            if i >= next_check:
                if 0 < frame_end <= i:
                    # The loop is stopped at each frame end (see FRAME): landing past it means
                    # the previous opcode crossed the boundary, which unpicklers read differently.
                    if i > frame_end:
                        res.straddles.append(i)
                    frame_end = -1
                next_check = i + _CHECK_EVERY
                self.check()
                if len(marks) > self.max_marks:
                    raise LimitExceeded("max_marks", f"more than {self.max_marks} open MARKs")
                if len(stack) > self.max_stack:
                    raise LimitExceeded("max_stack", f"pickle stack above {self.max_stack} items")
                if len(memo) > max_memo:
                    raise LimitExceeded("max_memo", f"pickle memo above {self.max_memo} entries")
            pos = i
            op = buf[i]
            if op == 0x8C:  # SHORT_BINUNICODE
                n = buf[i + 1]
                i += 2 + n
                push(str(buf[i - n : i], "utf-8", "surrogatepass"))
            elif op == 0x94:  # MEMOIZE
                n = len(memo)
                if n >= max_memo:
                    memo_put(n, None)  # raises the limit
                memo[n] = stack[-1]
                i += 1
            elif op == 0x71:  # BINPUT
                if len(memo) >= max_memo:
                    memo_put(0, None)
                memo[buf[i + 1]] = stack[-1]
                i += 2
            elif op == 0x68:  # BINGET
                v = memo.get(buf[i + 1], memo)
                push(v if v is not memo else memo_get(buf[i + 1]))
                i += 2
            elif op == 0x4B:  # BININT1
                push(buf[i + 1])
                i += 2
            elif op == 0x4D:  # BININT2
                push(_U16(buf, i + 1)[0])
                i += 3
            elif op == 0x4A:  # BININT
                push(_I32(buf, i + 1)[0])
                i += 5
            elif op == 0x28:  # MARK
                marks.append(len(stack))
                i += 1
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                d = stack[-1]
                if isinstance(d, dict) and len(d) < DICT_KEEP:
                    for k in range(0, len(items) - 1, 2):
                        with contextlib.suppress(TypeError):
                            d[items[k]] = items[k + 1]
                i += 1
            elif op == 0x58:  # BINUNICODE
                n = _U32(buf, i + 1)[0]
                i += 5 + n
                if i > end:
                    raise ParseError("BINUNICODE runs past the end of the data", pos)
                push(str(buf[i - n : i], "utf-8", "surrogatepass"))
            elif op == 0x85:  # TUPLE1
                stack[-1] = (stack[-1],)
                i += 1
            elif op == 0x86:  # TUPLE2
                b = pop()
                stack[-1] = (stack[-1], b)
                i += 1
            elif op == 0x87:  # TUPLE3
                c = pop()
                b = pop()
                stack[-1] = (stack[-1], b, c)
                i += 1
            elif op == 0x29:  # EMPTY_TUPLE
                push(())
                i += 1
            elif op == 0x52:  # REDUCE
                args = pop()
                func = pop()
                attr = _constant_getattr(func, args)
                decoded = _latin1_bytes(func, args)
                if decoded is not None:
                    # Protocols 0-2 write bytes as _codecs.encode(text, "latin1").
                    call(func, args, "REDUCE")
                    res.nested_data.append((pos, decoded))
                    push(Payload(pos, len(decoded), decoded))
                elif attr is not None:
                    # getattr(SomeClass, "name") is how pickle writes a bound class method
                    # (zoneinfo.ZoneInfo._unpickle): the same as the dotted global it names.
                    res.resolved.add((func.module, func.name))
                    push(global_(args[0].module, f"{args[0].name}.{attr}"))
                else:
                    push(call(func, args, "REDUCE"))
                i += 1
            elif op == 0x51:  # BINPERSID
                pid = pop()
                res.persistent.append(pid)
                # torch's legacy persistent_load returns the class of a ("module", cls, file,
                # source) record: the object is then built from that class.
                if (
                    isinstance(pid, tuple)
                    and len(pid) >= 2
                    and pid[0] == "module"
                    and isinstance(pid[1], Global)
                ):
                    push(pid[1])
                else:
                    push(PERS)
                i += 1
            elif op == 0x7D:  # EMPTY_DICT
                push({})
                i += 1
            elif op == 0x5D:  # EMPTY_LIST
                push([])  # kept short (DICT_KEEP items): call arguments are evidence
                i += 1
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                lst = stack[-1] if stack else None
                if type(lst) is list and len(lst) < DICT_KEEP:
                    lst.extend(items[: DICT_KEEP - len(lst)])
                i += 1
            elif op == 0x4E:  # NONE
                push(None)
                i += 1
            elif op in (0x88, 0x89):  # NEWTRUE, NEWFALSE
                push(op == 0x88)
                i += 1
            elif op == 0x95:  # FRAME
                n = _U64(buf, i + 1)[0]
                if i < frame_end:
                    res.straddles.append(i)
                i += 9
                frame_end = i + n
                res.last_frame = pos
                if frame_end > end:
                    # CPython stops here, but keep reading: what the frame holds is evidence.
                    res.truncated.append(pos)
                    frame_end = end
                next_check = min(next_check, frame_end)
            elif op == 0x93:  # STACK_GLOBAL
                name = pop()
                module = pop()
                if isinstance(module, str) and isinstance(name, str):
                    push(global_(module, name))
                else:
                    res.dynamic_globals.append((f"{module!r}.{name!r}", pos))
                    push(global_(repr(module), repr(name)))
                i += 1
            elif op == 0x62:  # BUILD
                state = pop()
                target = stack[-1] if len(stack) > (marks[-1] if marks else 0) else None
                if target is None:
                    raise ParseError("BUILD without a target", pos)
                if isinstance(target, Global):
                    res.builds_on_globals.append((target, pos))
                elif isinstance(target, Call) and isinstance(target.func, Global):
                    target.state = state
                    calls.append(CallSite(target.func, state, "BUILD", pos))
                    j = self._after_build(res, target, state, i + 1, end)
                    if j != i + 1:
                        # joblib wrote array bytes straight to the file, outside the framing.
                        frame_end = -1
                    i = j
                    continue
                i += 1
            elif op in (0x43, 0x55, 0x54, 0x42, 0x8A, 0x8B, 0x8D, 0x8E, 0x96):
                i = self._payload(res, op, i, end, push, frame_end)
            elif op == 0x47:  # BINFLOAT
                push(FLOAT)
                i += 9
            elif op == 0x81:  # NEWOBJ
                args = pop()
                cls = pop()
                push(call(cls, args, "NEWOBJ"))
                i += 1
            elif op == 0x92:  # NEWOBJ_EX
                kwargs = pop()
                args = pop()
                cls = pop()
                push(call(cls, (args, kwargs), "NEWOBJ_EX"))
                i += 1
            elif op == 0x74:  # TUPLE
                push(tuple(pop_mark()))
                i += 1
            elif op == 0x6F:  # OBJ
                items = pop_mark()
                if not items:
                    raise ParseError("OBJ without a class", pos)
                push(call(items[0], tuple(items[1:]), "OBJ"))
                i += 1
            elif op == 0x63 or op == 0x69:  # GLOBAL, INST
                module, i = _name_line(buf, i + 1, end)
                name, i = _name_line(buf, i, end)
                g = global_(module, name)
                if op == 0x63:
                    push(g)
                else:
                    push(call(g, tuple(pop_mark()), "INST"))
            elif op == 0x73:  # SETITEM
                v = pop()
                k = pop()
                d = stack[-1]
                if isinstance(d, dict) and len(d) < DICT_KEEP:
                    with contextlib.suppress(TypeError):
                        d[k] = v
                i += 1
            elif op == 0x61:  # APPEND
                v = pop()
                lst = stack[-1] if stack else None
                if type(lst) is list and len(lst) < DICT_KEEP:
                    lst.append(v)
                i += 1
            elif op == 0x72:  # LONG_BINPUT
                memo_put(_U32(buf, i + 1)[0], stack[-1])
                i += 5
            elif op == 0x6A:  # LONG_BINGET
                push(memo_get(_U32(buf, i + 1)[0]))
                i += 5
            elif op == 0x70:  # PUT
                arg, i = _line(buf, i + 1, end)
                memo_put(int(arg), stack[-1])
            elif op == 0x67:  # GET
                arg, i = _line(buf, i + 1, end)
                push(memo_get(int(arg)))
            elif op == 0x80:  # PROTO
                res.protocol = buf[i + 1]
                if res.protocol > 5:
                    raise ParseError(f"unsupported pickle protocol {res.protocol}", pos)
                i += 2
            elif op == 0x2E:  # STOP
                res.end = i + 1
                res.value = stack[-1] if stack else None
                if i + 1 < frame_end:
                    res.straddles.append(i)
                return
            elif op == 0x30:  # POP
                if marks and marks[-1] == len(stack):
                    marks.pop()
                else:
                    pop()
                i += 1
            elif op == 0x31:  # POP_MARK
                pop_mark()
                i += 1
            elif op == 0x32:  # DUP
                push(stack[-1])
                i += 1
            elif op in (0x6C, 0x64, 0x91, 0x90):  # LIST, DICT, FROZENSET, ADDITEMS
                items = pop_mark()
                if op == 0x64:
                    push(dict(zip(items[:DICT_KEEP:2], items[1:DICT_KEEP:2], strict=False)))
                elif op != 0x90:
                    push(items[:DICT_KEEP] if op == 0x6C else SET)
                i += 1
            elif op == 0x8F:  # EMPTY_SET
                push(SET)
                i += 1
            elif op in (0x49, 0x4C, 0x46):  # INT, LONG, FLOAT (text)
                arg, i = _line(buf, i + 1, end)
                push(BIG if op != 0x46 else FLOAT)
            elif op == 0x53 or op == 0x56:  # STRING, UNICODE (text)
                j = find_newline(buf, i + 1, end)
                raw = bytes(buf[i + 1 : j])
                if op == 0x53:
                    push(_decode_string_repr(raw.decode("latin-1"), pos, escapes=True))
                else:
                    push(raw.decode("raw-unicode-escape"))
                i = j + 1
            elif op == 0x50:  # PERSID
                _, i = _line(buf, i + 1, end)
                push(PERS)
            elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
                res.extensions.append(pos)
                push(EXT)
                i += {0x82: 2, 0x83: 3, 0x84: 5}[op]
            elif op == 0x97:  # NEXT_BUFFER
                push(BUFFER)
                i += 1
            elif op == 0x98:  # READONLY_BUFFER
                i += 1
            else:
                raise ParseError(f"unknown opcode 0x{op:02x}", pos)
            if i > end:
                raise ParseError(f"{NAMES.get(op, hex(op))} runs past the end of the data", pos)
        raise ParseError("pickle ends without STOP", end)

    def _payload(
        self, res: StreamResult, op: int, i: int, end: int, push: Any, frame_end: int
    ) -> int:
        """Length-prefixed payloads: skipped by offset arithmetic, never copied when large."""
        buf = self.buf
        if op in (0x43, 0x55, 0x8A):  # SHORT_BINBYTES, SHORT_BINSTRING, LONG1
            n, head = buf[i + 1], 2
        elif op in (0x42, 0x54):  # BINBYTES, BINSTRING
            n, head = _U32(buf, i + 1)[0], 5
        elif op == 0x8B:  # LONG4
            n, head = _I32(buf, i + 1)[0], 5
            if n < 0:
                raise ParseError("LONG4 with a negative length", i)
        else:  # BINUNICODE8, BINBYTES8, BYTEARRAY8
            n, head = _U64(buf, i + 1)[0], 9
        j = i + head + n
        if j > end:
            raise ParseError(f"{NAMES[op]} of {n} bytes runs past the end of the data", i)
        if frame_end > 0 and i < frame_end < j:
            res.straddles.append(i)
        if op in (0x8A, 0x8B):
            push(BIG)
        elif op == 0x55:
            push(str(buf[i + 2 : j], "latin-1"))
        elif op == 0x54 or op == 0x8D:
            push(str(buf[i + head : j], "utf-8" if op == 0x8D else "latin-1", "surrogatepass"))
        else:
            # A bytes payload that itself starts like a pickle or a zip is a nested file: the
            # loader may hand it to pickle.loads or torch.load (torch.storage._load_from_bytes,
            # which pickle.dumps of a tensor writes), so it gets scanned as a file.
            at = i + head
            if n > 3 and (
                (buf[at] == 0x80 and buf[at + 1] <= 5) or bytes(buf[at : at + 4]) == b"PK\x03\x04"
            ):
                res.nested.append((at, n))
                push(Payload(at, n))
            else:
                push(BYTES)
        return j

    def _after_build(self, res: StreamResult, target: Call, state: Any, i: int, end: int) -> int:
        """joblib writes raw array bytes right after a NumpyArrayWrapper's BUILD; skip them."""
        func = target.func
        if (
            isinstance(func, Global)
            and func.module in ("joblib.numpy_pickle", "joblib.numpy_pickle_compat")
            and func.name in ("NDArrayWrapper", "ZNDArrayWrapper")
        ):
            # joblib <= 0.9 wrappers: joblib.load opens the file named in the state (joined
            # to the pickle's folder) and, for NDArrayWrapper, np.load with pickles allowed.
            name = state.get("filename") if isinstance(state, dict) else None
            res.file_refs.append((name if isinstance(name, str) else repr(name), target.offset))
            return i
        if not (
            isinstance(func, Global)
            and func.module == "joblib.numpy_pickle"
            and func.name == "NumpyArrayWrapper"
        ):
            return i
        if not isinstance(state, dict):
            raise ParseError("joblib array wrapper without a state dict", i)
        nbytes, is_object = joblib_nbytes(state, i)
        if is_object:
            # Object arrays are a nested pickle stream, judged like the outer one.
            nested = self.run(i, end)
            res.globals.extend(nested.globals)
            res.calls.extend(nested.calls)
            res.builds_on_globals.extend(nested.builds_on_globals)
            res.dynamic_globals.extend(nested.dynamic_globals)
            res.extensions.extend(nested.extensions)
            res.file_refs.extend(nested.file_refs)
            res.nested.extend(nested.nested)
            res.nested_data.extend(nested.nested_data)
            res.resolved |= nested.resolved
            if nested.error is not None or nested.end < 0:
                raise ParseError(f"joblib object array: {nested.error}", nested.error_offset)
            return nested.end
        if "numpy_array_alignment_bytes" in state:
            if i >= end:
                raise ParseError("joblib array padding runs past the end", i)
            i += 1 + self.buf[i]
        i += nbytes
        if i > end:
            raise ParseError(f"joblib array of {nbytes} bytes runs past the end of the data", i)
        return i
