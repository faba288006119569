"""GGUF chat templates, judged on Jinja2's own syntax tree (parsed, never rendered).

Deny by default. A chat template is data-formatting code: it loops over messages, tests
roles, trims and joins strings. Everything else is a finding:

* block: attribute access to a name starting with `_` or to interpreter internals; item access
  with a constant key starting with `_` or a key built from strings (`~`, `+`, `join`,
  `reverse`, `replace`, `format`...), since Jinja's `x[key]` falls back to `getattr`; any
  attribute or item access on something that is not plain data (`self`, `cycler`, `joiner`,
  `lipsum`, `range`, macros, helper functions); the `attr`, `format` and other filters, tests
  and functions outside the allowlists; calls of anything but the allowlisted helpers and
  string/dict methods; filters that take a filter, test or attribute name by string
  (`map`, `select`, `selectattr`, `sort(attribute=...)`...) with a name that is not a constant.
* review: template inheritance and imports (no chat-template loader has templates to load),
  call blocks, filter blocks, autoescape scopes, a template that does not parse.

The allowlists are what real chat templates use: Hugging Face transformers renders them in an
`ImmutableSandboxedEnvironment` with `loopcontrols`, the `tojson` filter and the
`raise_exception` / `strftime_now` globals; llama.cpp's minja implements the same subset
(trim, tojson, join, length, default, upper/lower, items, selectattr/rejectattr, map, first,
last, unique, string, int, list, replace, namespace, range). A template that only mentions a
dangerous word in its text is plain output and no finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

SAFE_FILTERS: Final = frozenset(
    {
        "abs", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "first", "float", "indent", "int", "items", "join", "last", "length", "list", "lower",
        "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "truncate",
        "unique", "upper", "wordcount", "batch", "slice", "groupby",
    }
)  # fmt: skip
SAFE_TESTS: Final = frozenset(
    {
        "!=", "<", "<=", "==", ">", ">=", "boolean", "defined", "divisibleby", "eq", "equalto",
        "even", "false", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le",
        "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas",
        "sequence", "string", "true", "undefined", "upper",
    }
)  # fmt: skip
SAFE_FUNCTIONS: Final = frozenset({"range", "namespace", "dict", "raise_exception", "strftime_now"})
# Methods of str, dict and list that real templates call on message data.
SAFE_METHODS: Final = frozenset(
    {
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
        "lower", "upper", "title", "capitalize", "replace", "items", "keys", "values", "get",
        "join", "count", "find", "rfind", "index", "isdigit", "isalpha", "isspace", "isalnum",
    }
)  # fmt: skip
LOOP_ATTRS: Final = frozenset(
    {"index", "index0", "first", "last", "length", "revindex", "revindex0", "previtem",
     "nextitem", "depth", "depth0"}
)  # fmt: skip
# Names the environment provides that are callables or objects with internals, not data.
_NOT_DATA: Final = frozenset(
    {"self", "caller", "varargs", "kwargs", "lipsum", "cycler", "joiner", "range", "dict",
     "raise_exception", "strftime_now", "namespace", "config", "request", "environment"}
)  # fmt: skip
_INTERNAL_ATTRS: Final = frozenset(
    {"mro", "func_globals", "func_code", "gi_frame", "gi_code", "f_globals", "f_locals",
     "f_builtins", "co_code", "tb_frame", "cr_frame", "ag_frame", "im_func", "im_self",
     "environment", "globals", "module", "format", "format_map", "translate", "maketrans",
     "encode", "decode"}
)  # fmt: skip
# Filters whose result is a string built from other strings: never a key or an attribute name.
_BUILDING_FILTERS: Final = frozenset(
    {"join", "reverse", "replace", "format", "string", "lower", "upper", "title", "capitalize",
     "trim", "center", "indent", "truncate", "first", "last", "e", "escape", "safe", "urlencode",
     "list", "sort", "tojson", "sum", "min", "max"}
)  # fmt: skip
# Filters that take a filter name, a test name or an attribute path as a string argument.
_NAME_ARG_FILTERS: Final = {
    "map": "filter",
    "select": "test",
    "reject": "test",
    "selectattr": "attribute",
    "rejectattr": "attribute",
}
_ATTRIBUTE_KW: Final = frozenset(
    {"sort", "groupby", "sum", "min", "max", "unique", "map", "dictsort", "selectattr"}
)
_ODD_NODES: Final = frozenset(
    {"Include", "Extends", "Import", "FromImport", "Block", "CallBlock", "FilterBlock",
     "ScopedEvalContextModifier", "EvalContextModifier", "Scope", "ExprStmt", "Do"}
)  # fmt: skip
_MAX_TEMPLATE: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Issue:
    """One construct of a template: `block` or `review`, what it is, and the source line."""

    verdict: str
    message: str
    line: int


@dataclass(frozen=True, slots=True)
class TemplateView:
    """What the template does, as the scanner sees it (compared with Jinja's own tree in tests)."""

    filters: tuple[str, ...]
    tests: tuple[str, ...]
    calls: tuple[str, ...]
    attributes: tuple[str, ...]
    issues: tuple[Issue, ...]


def _is_str_const(node: Any) -> bool:
    return type(node).__name__ == "Const" and isinstance(node.value, str)


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.iter_child_nodes())))


class _Judge:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.filters: list[str] = []
        self.tests: list[str] = []
        self.calls: list[str] = []
        self.attributes: list[str] = []
        self.built: set[str] = set()  # names set to strings built from strings
        self.macros: set[str] = set()
        self.namespaces: set[str] = set()
        self.not_data: set[str] = set(_NOT_DATA)

    def block(self, node: Any, msg: str) -> None:
        self.issues.append(Issue("block", msg, getattr(node, "lineno", 0)))

    def review(self, node: Any, msg: str) -> None:
        self.issues.append(Issue("review", msg, getattr(node, "lineno", 0)))

    def builds_string(self, node: Any) -> bool:
        """True when the expression builds a string from pieces (so may spell any name)."""
        for n in _walk(node):
            kind = type(n).__name__
            if kind == "Concat" or (kind == "Filter" and n.name in _BUILDING_FILTERS):
                return True
            if kind == "Add" and any(_is_str_const(x) for x in (n.left, n.right)):
                return True
            if kind == "Name" and n.name in self.built:
                return True
            if (
                kind == "Call"
                and type(n.node).__name__ == "Getattr"
                and n.node.attr in ("join", "replace", "format", "lower", "upper", "title")
            ):
                return True
        return False

    def root_name(self, node: Any) -> str | None:
        while type(node).__name__ in ("Getattr", "Getitem"):
            node = node.node
        return node.name if type(node).__name__ == "Name" else None

    def first_pass(self, tree: Any) -> None:
        for n in _walk(tree):
            kind = type(n).__name__
            if kind == "Macro":
                self.macros.add(n.name)
                self.not_data.add(n.name)
            elif kind == "Assign" and type(n.target).__name__ == "Name":
                value = n.node
                if (
                    type(value).__name__ == "Call"
                    and type(value.node).__name__ == "Name"
                    and value.node.name == "namespace"
                ):
                    self.namespaces.add(n.target.name)
                    for kw in value.kwargs:
                        if self.builds_string(kw.value):
                            self.built.add(f"{n.target.name}.{kw.key}")
                    continue
                if type(value).__name__ == "Name" and value.name in self.not_data:
                    self.not_data.add(n.target.name)
                elif self.builds_string(value):
                    self.built.add(n.target.name)
            elif kind == "Assign" and type(n.target).__name__ == "NSRef":
                if self.builds_string(n.node):
                    self.built.add(f"{n.target.name}.{n.target.attr}")
            elif kind == "For" and self.builds_string(n.iter):
                for t in _walk(n.target):
                    if type(t).__name__ == "Name":
                        self.built.add(t.name)

    def judge(self, tree: Any) -> None:
        self.first_pass(tree)
        for n in _walk(tree):
            kind = type(n).__name__
            method = getattr(self, f"_{kind}", None)
            if method is not None:
                method(n)
            elif kind in _ODD_NODES:
                self.review(n, f"uses {{% {kind.lower()} %}}, which chat templates do not need")

    def _Getattr(self, n: Any) -> None:
        self.attributes.append(n.attr)
        self.check_name(n, n.attr, "attribute")
        root = self.root_name(n.node)
        base = type(n.node).__name__
        if base == "Name" and root == "loop":
            if n.attr not in LOOP_ATTRS:
                self.block(n, f"loop.{n.attr} is not a loop counter")
        elif base == "Name" and root in self.namespaces:
            pass
        elif root in self.not_data:
            self.block(n, f"attribute {n.attr!r} of {root!r}, which is not plain data")

    def _Getitem(self, n: Any) -> None:
        root = self.root_name(n.node)
        if root in self.not_data:
            self.block(n, f"item access on {root!r}, which is not plain data")
        key = n.arg
        kind = type(key).__name__
        if kind == "Const":
            if isinstance(key.value, str):
                self.check_name(n, key.value, "item")
            return
        if kind == "Slice":
            return
        if self.builds_string(key):
            self.block(n, "item key is a string built at render time (can spell any attribute)")
        elif not self.plain_key(key):
            self.block(n, f"item key is a computed {kind} expression")

    def plain_key(self, node: Any) -> bool:
        """Keys real templates compute: names, counters, lengths and integer arithmetic."""
        kind = type(node).__name__
        if kind == "Const":
            return not isinstance(node.value, str) or not node.value.startswith("_")
        if kind == "Name":
            return node.name not in self.built and node.name not in self.not_data
        if kind == "Getattr" and type(node.node).__name__ == "Name":
            owner = node.node.name
            if owner == "loop":
                return node.attr in LOOP_ATTRS
            return owner in self.namespaces and f"{owner}.{node.attr}" not in self.built
        if kind == "Filter":
            return node.name in ("length", "count", "int")
        if kind in ("Add", "Sub", "Mul", "FloorDiv", "Mod"):
            return self.plain_key(node.left) and self.plain_key(node.right)
        if kind in ("Neg", "Pos"):
            return self.plain_key(node.node)
        return False

    def check_name(self, node: Any, name: str, what: str) -> None:
        for part in name.split("."):
            if part.startswith("_") or part in _INTERNAL_ATTRS:
                self.block(node, f"{what} {name!r} reaches interpreter internals")
                return

    def _Filter(self, n: Any) -> None:
        self.filters.append(n.name)
        if n.name not in SAFE_FILTERS:
            self.block(n, f"filter {n.name!r} is not on the chat-template allowlist")
            return
        self.name_args(n, n.name)

    def name_args(self, n: Any, name: str) -> None:
        kind = _NAME_ARG_FILTERS.get(name)
        if kind and n.args:
            first = n.args[0]
            if not _is_str_const(first):
                self.block(n, f"{name} takes a {kind} name that is not a constant")
            elif kind == "filter" and first.value not in SAFE_FILTERS:
                self.block(n, f"{name} applies the filter {first.value!r}, not allowlisted")
            elif kind == "test" and first.value not in SAFE_TESTS:
                self.block(n, f"{name} applies the test {first.value!r}, not allowlisted")
            elif kind == "attribute":
                self.check_name(n, first.value, "attribute")
                if len(n.args) > 1:
                    test = n.args[1]
                    if not _is_str_const(test) or test.value not in SAFE_TESTS:
                        self.block(n, f"{name} applies a test that is not allowlisted")
        for kw in n.kwargs:
            if kw.key == "attribute" and name in _ATTRIBUTE_KW:
                if not _is_str_const(kw.value):
                    self.block(n, f"{name}(attribute=...) is not a constant")
                else:
                    self.check_name(n, kw.value.value, "attribute")
        if n.dyn_args is not None or n.dyn_kwargs is not None:
            self.block(n, f"{name} is given arguments by unpacking")

    def _Test(self, n: Any) -> None:
        self.tests.append(n.name)
        if n.name not in SAFE_TESTS:
            self.block(n, f"test {n.name!r} is not on the chat-template allowlist")

    def _Call(self, n: Any) -> None:
        target = n.node
        kind = type(target).__name__
        if kind == "Name":
            self.calls.append(target.name)
            if target.name not in SAFE_FUNCTIONS and target.name not in self.macros:
                self.block(n, f"call of {target.name!r}, which is not an allowlisted function")
        elif kind == "Getattr":
            self.calls.append(f".{target.attr}")
            if target.attr not in SAFE_METHODS:
                self.block(n, f"call of the method {target.attr!r}, not on the allowlist")
        else:
            self.calls.append(f"<{kind}>")
            self.block(n, f"call of a computed {kind} expression")

    def _NSRef(self, n: Any) -> None:
        self.check_name(n, n.attr, "namespace attribute")

    def _Macro(self, n: Any) -> None:
        self.check_name(n, n.name, "macro")

    def _InternalName(self, n: Any) -> None:
        self.block(n, "internal name")

    def _Name(self, n: Any) -> None:
        self.check_name(n, n.name, "name")


def template_view(source: str) -> TemplateView:
    """Parse a chat template with Jinja2 (never rendering it) and judge every construct."""
    import jinja2  # start-up time: only GGUF files with templates need it

    if len(source) > _MAX_TEMPLATE:
        issue = Issue("review", f"template of {len(source)} characters is too long to parse", 0)
        return TemplateView((), (), (), (), (issue,))
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])  # noqa: S701 - parsed only
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        issue = Issue("review", f"template does not parse: {exc.message}", exc.lineno)
        return TemplateView((), (), (), (), (issue,))
    except RecursionError:
        issue = Issue("review", "template is nested too deep to parse", 0)
        return TemplateView((), (), (), (), (issue,))
    judge = _Judge()
    try:
        judge.judge(tree)
    except RecursionError:
        judge.review(tree, "template is nested too deep to judge")
    return TemplateView(
        tuple(judge.filters),
        tuple(judge.tests),
        tuple(judge.calls),
        tuple(judge.attributes),
        tuple(judge.issues),
    )
