"""`airlock.client` imports with httpx and pydantic alone: the server's libraries are
blocked in a fresh interpreter, and the import must still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"
SERVER_LIBRARIES = [
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "jsonschema",
    "jinja2",
    "typer",
    "rich",
    "cryptography",
    "argon2",
    "celery",
    "boto3",
    "pydantic_settings",
    "multipart",
    "huggingface_hub",
    "yaml",
]
PROBE = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked server library {name}")
        return None
sys.meta_path.insert(0, Block())
import airlock.client
from airlock.client import AirlockClient, ScanResults
print(",".join(sorted(m for m in sys.modules if m.startswith("airlock"))))
"""


def test_client_imports_without_the_servers_libraries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(SERVER_LIBRARIES)],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.strip().split(","))
    # Only the client package itself: no server stage, no core module.
    assert {"airlock", "airlock.client", "airlock.client._client"} <= loaded
    assert all(name == "airlock" or name.startswith("airlock.client") for name in loaded), loaded


def test_the_probe_does_block_a_server_library() -> None:
    # The control: importing the dossier validation needs jsonschema, which is blocked.
    probe = PROBE.replace("import airlock.client\n", "import airlock.dossiers.validation\n")
    done = subprocess.run(
        [sys.executable, "-c", probe, ",".join(SERVER_LIBRARIES)],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "blocked server library jsonschema" in done.stderr
