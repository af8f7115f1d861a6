"""`counter doctor`: is this installation able to serve a counter?"""

from __future__ import annotations

import os
from dataclasses import dataclass

from counter.runtime import Runtime


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True

    @property
    def label(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.required else "warn"


def _data_dir(runtime: Runtime) -> Check:
    from counter.files import private_dir

    path = runtime.data_dir
    try:
        private_dir(path)
    except OSError as exc:
        return Check("data directory", False, f"{path}: cannot create ({exc.strerror})")
    if not os.access(path, os.W_OK):
        return Check("data directory", False, f"{path}: not writable")
    return Check("data directory", True, str(path))


def _database(runtime: Runtime) -> list[Check]:
    from counter.store import migrate
    from counter.store.engine import Store, StoreError

    try:
        store = Store(runtime.database_url)
    except StoreError as exc:
        return [Check("database", False, str(exc))]
    described = store.describe()
    if runtime.training and store.url.database and not os.path.exists(store.url.database):
        store.dispose()
        return [Check("database", True, f"{described} (created on first start)")]
    try:
        revision = migrate.current_revision(store)
    except Exception as exc:  # noqa: BLE001 — any driver error means unreachable
        return [Check("database", False, f"{described}: unreachable ({type(exc).__name__}: {exc})".splitlines()[0])]
    finally:
        store.dispose()
    checks = [Check("database", True, f"{described} reachable")]
    if revision == migrate.HEAD:
        checks.append(Check("schema", True, f"revision {revision} (current)"))
    elif runtime.training:
        checks.append(Check("schema", True, f"revision {revision or 'none'}: upgraded on next start"))
    else:
        checks.append(Check("schema", False, f"revision {revision or 'none'}, expected {migrate.HEAD}: run 'counter db upgrade'"))
    return checks


def keyring_check(runtime: Runtime, read) -> Check:
    """Is there a usable keyring, and could the backends' secrets be read from it?"""
    from counter.credentials import backend_name, keyring_usable

    name = backend_name()
    # Training talks only to the emulated agencies unless told otherwise: no secret is needed there.
    required = not runtime.training
    if read.problem:
        return Check("keyring", False, f"unusable: {read.problem}", required=required)
    if not keyring_usable():
        return Check("keyring", False, f"{name}: no usable keyring; agency credentials cannot be stored",
                     required=required)
    return Check("keyring", True, name, required=required)


def credential_checks(runtime: Runtime) -> list[Check]:
    """The keyring, then each backend; the keyring is read once for all of them."""
    from counter.app_factory import read_backend_secrets

    read = read_backend_secrets(runtime)
    return [keyring_check(runtime, read), *backend_checks(runtime, read)]


def backend_checks(runtime: Runtime, read) -> list[Check]:
    """Each backend: is a secret stored (when needed), does the agency answer and accept it."""
    import asyncio

    from counter import registry
    from counter.app_factory import build_backends
    from counter.backend import Status
    from counter.config import ConfigError

    try:
        backends = build_backends(runtime, read)
    except (registry.PluginError, ConfigError) as exc:
        return [Check("backends", False, str(exc))]
    if not backends:
        return [Check("backends", True, "none configured: dossiers show the town's data only", required=False)]

    async def probe():
        try:
            return await asyncio.gather(*(b.health() for b in backends))
        finally:
            for backend in backends:
                await backend.aclose()

    checks = []
    for backend, health in zip(backends, asyncio.run(probe()), strict=True):
        emulated = backend.training and getattr(backend.settings, "base_url", None) is None
        where = "emulated in-process" if emulated else backend.settings.base_url
        secret = ""
        if not emulated and registry.load(backend.kind).needs_secret:
            secret = ("secret stored, " if backend.name in read.secrets
                      else "secret unreadable, " if read.problem else "NO SECRET, ")
        detail = f"{backend.kind} at {where}: {secret}{health.status.value}, {health.elapsed_ms:.0f} ms"
        if health.message:
            detail += f" ({health.message})"
        checks.append(Check(f"backend {backend.name}", health.status is Status.OK, detail,
                            required=not runtime.training))
    return checks


MODES_NAMED = 10  # paths listed by the file-modes check; the count says how many more


def _private_paths(runtime: Runtime):
    """The data directory and everything under it (symbolic links not followed), and a
    SQLite database kept elsewhere with its -wal, -shm, -journal and its directory."""
    from pathlib import Path

    for folder, _dirs, files in os.walk(runtime.data_dir):
        yield Path(folder)
        for name in sorted(files):
            yield Path(folder) / name
    if runtime.database_url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(runtime.database_url).database
        if database and database != ":memory:":
            database = Path(database).expanduser()
            if runtime.data_dir not in database.parents:
                yield database.parent
                for suffix in ("", "-wal", "-shm", "-journal"):
                    yield database.with_name(database.name + suffix)


def file_modes_check(runtime: Runtime) -> Check:
    """Personal data is never readable by other accounts: a warning naming each
    directory more open than 0750 and each file more open than 0640."""
    import stat

    from counter.files import DIR_MODE, FILE_MODE, PRIVATE_UMASK

    too_open = []
    for path in dict.fromkeys(_private_paths(runtime)):  # a database under the data directory: once
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue
        if not stat.S_ISLNK(mode) and mode & PRIVATE_UMASK:
            too_open.append(f"{path} ({stat.S_IMODE(mode):04o})")
    if not too_open:
        return Check("file modes", True, "no file or directory is open to other accounts", required=False)
    listed = "".join(f"\n    {item}" for item in too_open[:MODES_NAMED])
    if len(too_open) > MODES_NAMED:
        listed += f"\n    … and {len(too_open) - MODES_NAMED} more"
    return Check("file modes", False,
                 f"{len(too_open)} open to other accounts (at most {DIR_MODE:04o} for a directory, "
                 f"{FILE_MODE:04o} for a file: chmod g-w,o-rwx):{listed}", required=False)


def run_checks(runtime: Runtime) -> list[Check]:
    checks = [
        Check("mode", True, runtime.mode),
        Check("config file", True, str(runtime.config_path) if runtime.config_path else "(none: training mode)"),
        _data_dir(runtime),
    ]
    checks.extend(_database(runtime))
    checks.extend(credential_checks(runtime))
    checks.append(file_modes_check(runtime))
    return checks
