"""Vault commands: `airlock submit DIR`, `airlock keys rotate|generate`, `airlock vault gc`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from airlock.client.transfer import DEFAULT_IN_FLIGHT, Notice, TransferError, call, send_file
from airlock.vault import rules

keys_app = typer.Typer(help="Vault keys: generate a master key, rotate it.", no_args_is_help=True)
vault_app = typer.Typer(help="Vault maintenance.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

READ_BYTES = 8 * 1024 * 1024


class UploadFailed(Exception):
    """The server refused a file; the message is the server's."""


@dataclass
class SubmitReport:
    """What `submit` did with each file."""

    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    resumed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def model_files(folder: Path) -> list[tuple[str, Path]]:
    """Every regular file under folder (hidden files and folders skipped), by relative name."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    return found


def sha256_of(path: Path, advance: Callable[[int], None] = lambda n: None) -> str:
    """The file's SHA-256, read in large blocks."""
    h = hashlib.sha256()
    buf = bytearray(READ_BYTES)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            advance(n)
    return h.hexdigest()


def submit_folder(
    http: httpx.Client,
    folder: Path,
    submission_id: str,
    *,
    progress: Progress | None = None,
    in_flight: int = DEFAULT_IN_FLIGHT,
    notice: Notice = lambda message: None,
) -> SubmitReport:
    """Upload every file of a model folder into a submission, resuming and skipping stored ones.

    Each file is hashed while it is sent, with `in_flight` chunks on the wire at once. A file
    whose name is already stored is hashed first, to skip it if it is the same.
    """
    report = SubmitReport()
    files = model_files(folder)
    manifest = call(
        lambda: http.get(f"/api/v1/submissions/{submission_id}/artifacts"),
        what="reading the manifest",
        notice=notice,
    ).json()
    stored = {a["name"]: a["sha256"] for a in manifest["artifacts"] if a["state"] == "stored"}
    total = sum(p.stat().st_size for _, p in files)
    overall = progress.add_task("[bold]all files", total=total) if progress else None
    for name, path in files:
        size = path.stat().st_size
        task = progress.add_task(name, total=size) if progress else None

        def sent(n: int, task: TaskID | None = task) -> None:
            if progress is not None and task is not None and overall is not None:
                progress.advance(task, n)
                progress.advance(overall, n)

        try:
            if name in stored and sha256_of(path) == stored[name]:
                report.skipped.append(name)
                sent(size)
                continue
            done = send_file(
                http,
                submission_id=submission_id,
                path=path,
                name=name,
                kind=rules.guess_kind(name),
                media_type=rules.guess_media_type(name),
                in_flight=in_flight,
                advance=sent,
                notice=notice,
            )
        except TransferError as exc:
            if exc.status >= 500 or exc.status == 0:
                raise UploadFailed(str(exc)) from None  # the server's fault: stop now
            report.failed[name] = str(exc)
            continue
        if done.resumed_chunks:
            report.resumed[name] = done.resumed_chunks
        report.uploaded.append(name)
    return report


def submit(
    folder: Annotated[Path, typer.Argument(help="Model folder.", exists=True, file_okay=False)],
    server: Annotated[str, typer.Option(help="Airlock server URL.")],
    token: Annotated[str, typer.Option(help="API token.", envvar="AIRLOCK_TOKEN")],
    submission: Annotated[str, typer.Option(help="Submission id.")],
    in_flight: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="AIRLOCK_UPLOAD_IN_FLIGHT",
            help="Chunks sent at once, each on its own keep-alive connection.",
        ),
    ] = DEFAULT_IN_FLIGHT,
) -> None:
    """Upload a model folder into a submission; resumes if interrupted, skips stored files."""
    headers = {"Authorization": f"Bearer {token}"}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    limits = httpx.Limits(max_connections=in_flight + 2, max_keepalive_connections=in_flight + 2)
    with (
        httpx.Client(
            base_url=server.rstrip("/"), headers=headers, timeout=120, limits=limits
        ) as http,
        Progress(*columns, console=console) as progress,
    ):

        def notice(message: str) -> None:
            progress.console.print(f"[yellow]{message}[/yellow]")

        try:
            report = submit_folder(
                http, folder, submission, progress=progress, in_flight=in_flight, notice=notice
            )
        except (UploadFailed, TransferError) as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    for name, chunks in report.resumed.items():
        console.print(f"resumed {name} after {chunks} chunk(s)")
    console.print(
        f"uploaded {len(report.uploaded)}, already stored {len(report.skipped)}, "
        f"failed {len(report.failed)}"
    )
    for name, why in report.failed.items():
        err.print(f"[red]✗[/red] {name}: {why}")
    if report.failed:
        raise typer.Exit(1)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random master key (base64) for AIRLOCK_MASTER_KEY."""
    from airlock.vault.keys import generate_master_key

    typer.echo(generate_master_key())


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[
        Path | None, typer.Option(help="File holding the new base64 master key.", exists=True)
    ] = None,
) -> None:
    """Rewrap every organisation key under a new master key (AIRLOCK_NEW_MASTER_KEY or a file)."""
    from airlock.bootstrap import build
    from airlock.settings import SettingsError
    from airlock.vault import keyring
    from airlock.vault.keys import (
        dev_key_path,
        generate_master_key,
        load_master_key,
        parse_master_key,
        write_key_file,
    )

    container = build()
    settings = container.settings
    dev_file = settings.dev and not settings.master_key
    try:
        old = load_master_key(settings)
        if new_key_file is not None:
            new = parse_master_key(new_key_file.read_text(), setting=str(new_key_file))
        elif os.environ.get("AIRLOCK_NEW_MASTER_KEY"):
            new = parse_master_key(
                os.environ["AIRLOCK_NEW_MASTER_KEY"], setting="AIRLOCK_NEW_MASTER_KEY"
            )
        elif dev_file:
            value = generate_master_key()
            new = parse_master_key(value)
            write_key_file(dev_key_path(settings).with_suffix(".next"), value)
        else:
            raise SettingsError("give the new key in AIRLOCK_NEW_MASTER_KEY or --new-key-file")
        with container.uow() as uow:
            count = keyring.rotate_master_key(uow, old=old, new=new, actor_label="cli")
            uow.commit()
    except (SettingsError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        container.close()
    console.print(f"rewrapped {count} organisation key(s): master key {old.key_id} -> {new.key_id}")
    if dev_file and new_key_file is None and not os.environ.get("AIRLOCK_NEW_MASTER_KEY"):
        os.replace(dev_key_path(settings).with_suffix(".next"), dev_key_path(settings))
        console.print(f"the development key in {dev_key_path(settings)} was replaced")
    else:
        console.print(
            "now set AIRLOCK_MASTER_KEY to the new key and restart; the old key opens nothing"
        )


@keys_app.command("move-to-store")
def keys_move_to_store() -> None:
    """Move organisation keys still kept in the database into the key store (servers do it
    on start too)."""
    from airlock.bootstrap import build
    from airlock.vault import keyring

    container = build()
    try:
        with container.uow() as uow:
            count = keyring.move_keys_to_store(uow, actor_label="cli")
            uow.commit()
    finally:
        container.close()
    console.print(f"moved {count} organisation key(s) into the key store")


@vault_app.command("gc")
def vault_gc(
    grace_hours: Annotated[
        float, typer.Option(help="Age after which unfinished writes and completions are dead.")
    ] = 1.0,
) -> None:
    """Remove expired upload sessions, orphaned objects and dead partial writes; report them."""
    from datetime import timedelta

    from airlock.bootstrap import build
    from airlock.vault import gc

    container = build()
    try:
        with container.uow() as uow:
            report = gc.expire_uploads(uow, stalled_after=timedelta(hours=grace_hours))
            uow.commit()
        with container.uow() as uow:
            gc.sweep_objects(
                uow,
                store=container.blob_store,
                report=report,
                incomplete_after_seconds=grace_hours * 3600,
            )
            gc.record(uow, report=report, actor_label="cli")
            uow.commit()
    finally:
        container.close()
    console.print(f"expired upload sessions: {len(report.expired_uploads)}")
    console.print(f"stalled completions failed: {len(report.stalled_completions)}")
    console.print(f"orphaned objects removed: {len(report.removed_objects)}")
    for key in report.removed_objects:
        console.print(f"  {key}")
    console.print(f"unfinished writes removed: {report.removed_incomplete_writes}")


def register(app: typer.Typer) -> None:
    """Add the vault's commands to the main `airlock` app."""
    app.command("submit")(submit)
    app.add_typer(keys_app, name="keys")
    app.add_typer(vault_app, name="vault")
