"""Everything a stage defines is reachable from the composition root; nothing is found by string."""

from __future__ import annotations

import ast
import importlib
import operator
import re
from pathlib import Path
from typing import Any

import typer
from fastapi.routing import APIRoute

import airlock
from airlock import composition
from airlock.bootstrap import build
from airlock.core import jobs
from tests.conftest import make_settings

SRC = Path(airlock.__file__).resolve().parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    return ".".join(rel.parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_every_job_handler_a_stage_declares_is_registered():
    declared = []
    for path in sorted(SRC.glob("*/jobs.py")):
        if path.parent.name == "core":
            continue
        module = importlib.import_module(_module_name(path))
        assert module in composition.job_modules(), f"{module.__name__} is not in the composition"
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and ast.unparse(deco.func) == "jobs.handler":
                        arg = deco.args[0]
                        name = (
                            arg.value
                            if isinstance(arg, ast.Constant)
                            else operator.attrgetter(ast.unparse(arg))(module)
                        )
                        declared.append(name)
    assert len(declared) >= 3
    missing = [name for name in declared if name not in jobs._REGISTRY]
    assert missing == []


def test_every_table_defined_anywhere_is_in_the_metadata():
    tables = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.AnnAssign | ast.Assign)
                        and "__tablename__" in ast.unparse(stmt).split("=")[0]
                        and isinstance(stmt.value, ast.Constant)
                    ):
                        tables.append(stmt.value.value)
    assert len(tables) >= 10
    assert sorted(set(tables) - set(composition.load().tables)) == []


def _router_modules(folder: Path) -> list[str]:
    names = []
    for path in sorted(folder.glob("*.py")):
        for node in _tree(path).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "router" for t in node.targets
            ):
                names.append(_module_name(path))
    return names


def _mounted_endpoints(routes: list[Any]) -> set[Any]:
    found = set()
    for route in routes:
        if isinstance(route, APIRoute):
            found.add(route.endpoint)
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if included is not None:
            found |= _mounted_endpoints(included.routes)
    return found


def test_every_router_is_mounted_with_all_its_routes(tmp_path):
    from airlock.web.app import create_app

    container = build(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data"))
    try:
        app = create_app(container, start_jobs=False)
    finally:
        container.close()
    mounted = _mounted_endpoints(app.routes)
    checked = 0
    for folder in (SRC / "web/api/v1", SRC / "web/pages"):
        modules = _router_modules(folder)
        assert modules, f"no routers found under {folder}"
        for name in modules:
            router = importlib.import_module(name).router
            routes = [r for r in router.routes if isinstance(r, APIRoute)]
            assert routes, f"{name} keeps a router with no routes"
            for route in routes:
                assert route.endpoint in mounted, f"{name}: {route.path} is not mounted"
                checked += 1
    assert checked > 40


def test_every_command_group_and_stage_command_is_reachable_from_the_cli():
    from airlock.cli import main

    groups = {g.typer_instance for g in main.app.registered_groups}
    callbacks = {c.callback for c in main.app.registered_commands}
    for path in sorted((SRC / "cli").glob("*.py")):
        if path.name == "__main__.py":
            continue
        module = importlib.import_module(_module_name(path))
        for value in vars(module).values():
            if isinstance(value, typer.Typer) and value is not main.app:
                assert value in groups, f"a command group of {module.__name__} is not mounted"
    from airlock.cli import vault
    from airlock.scanning.engine.cli import scan_command

    assert {scan_command, vault.submit} <= callbacks


def test_no_module_of_airlock_is_found_by_string():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        if "find_spec" in text:
            offenders.append(f"{path.relative_to(SRC)}: find_spec")
        # Optional third-party modules may be imported by name; Airlock's own never are.
        if re.search(r"import_module\(\s*f?[\"']airlock", text) and path != SRC / "core/jobs.py":
            offenders.append(f"{path.relative_to(SRC)}: import_module")
    assert offenders == []
