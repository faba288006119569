"""Framework profiles derived from the real libraries (see scripts/gen_allowlists.py).

Two kinds of entries, both generated, never written by hand:

* emitted globals: what pickling real objects of a library calls (REDUCE, INST, OBJ);
  allowed like the hand-written allowlist;
* state classes (inspected, or seen only constructed in real pickles) and globals real
  pickles only name: allowed when only constructed without `__init__` (NEWOBJ,
  `copyreg._reconstructor`, NumPy `_reconstruct`) or referenced; calling one is `block`.

The generated module is imported on first use, so scans that never meet an unlisted global
pay nothing for it.
"""

from __future__ import annotations

from functools import cache
from typing import Final

Pair = tuple[str, str]

# Rebuild helpers that create an instance of the class they are given without calling its
# __init__: the class argument is "constructed", not "called".
CONSTRUCTORS: Final = frozenset(
    {
        ("copyreg", "_reconstructor"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)
# Wrappers that store the callable they are given without calling it at load time
# (torch's QConfig pickles observers as functools.partial(ObserverClass, ...)): the callable
# is judged as referenced, and anything that later calls the wrapper is a call on a non-global.
WRAPPERS: Final = frozenset({("functools", "partial")})
# Opcodes that create an instance through cls.__new__ only.
NEW_ONLY_OPS: Final = frozenset({"NEWOBJ", "NEWOBJ_EX"})


@cache
def _helpers() -> frozenset[Pair]:
    from . import profiles_generated as g

    return frozenset(p for pairs in g.CLASS_HELPERS.values() for p in pairs)


def takes_classes(pair: Pair) -> bool:
    """A rebuild helper that real pickles hand a class (pandas `_new_Index`, NumPy
    `__bit_generator_ctor`...): a profiled class it receives is judged as constructed."""
    return pair in CONSTRUCTORS or pair in _helpers()


@cache
def _tables() -> tuple[frozenset[Pair], frozenset[Pair], frozenset[str], dict[str, str]]:
    from . import profiles_generated as g

    emitted = frozenset(p for pairs in g.EMITTED.values() for p in pairs)
    # State classes and globals real pickles only name: fine unless something runs them.
    inert = frozenset(p for pairs in g.STATE_CLASSES.values() for p in pairs) | frozenset(
        p for pairs in g.REFERENCED.values() for p in pairs
    )
    return emitted, inert, g.NAMESPACES, dict(g.LIBRARY_VERSIONS)


def is_emitted(pair: Pair) -> bool:
    """A global real pickles of a profiled library call: allowed like the hand lists."""
    return pair in _tables()[0]


def is_state_class(pair: Pair) -> bool:
    """A profiled class rebuilt as class + state, or a global real pickles only name."""
    return pair in _tables()[1]


def namespace_of(module: str) -> str | None:
    """The profiled library a module belongs to, with its version, or None."""
    top = module.split(".", 1)[0]
    _e, _c, names, versions = _tables()
    if top not in names:
        return None
    key = {"pytorch_lightning": "lightning", "lightning_fabric": "lightning"}.get(top, top)
    return f"{top} {versions[key]}" if key in versions else top
