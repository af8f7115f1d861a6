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
    from counter.store.engine import EmptyDatabaseFile, Store, StoreError

    try:
        store = Store(runtime.database_url)
    except EmptyDatabaseFile as exc:  # training builds its own again (fixtures.training); production refuses
        return [Check("database", runtime.training,
                      f"{exc.path}: empty, built again on next start" if runtime.training else str(exc))]
    except StoreError as exc:
        return [Check("database", False, str(exc))]
    described = store.describe()
    if runtime.training and store.url.database and not os.path.exists(store.url.database):
        store.dispose()
        return [Check("database", True, f"{described} (created on first start)")]
    try:
        revision = migrate.current_revision(store)
    except Exception as exc:  # noqa: BLE001 — any driver error means unusable
        from counter.store import failures

        if failures.classify(exc).named:  # a damaged file, a full disk… is not "unreachable"
            return [Check("database", False, f"{described}: {failures.admin_message(exc)}")]
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
    """The keyring, then each backend; the keyring is read once for all of them
    (``runtime.secrets`` when the caller read it already)."""
    from counter.service.composition import read_backend_secrets

    read = runtime.secrets if runtime.secrets is not None else read_backend_secrets(runtime)
    return [keyring_check(runtime, read), *backend_checks(runtime, read)]


def backend_checks(runtime: Runtime, read) -> list[Check]:
    """Each backend: is a secret stored (when needed), does the agency answer and accept it."""
    import asyncio

    from counter import registry
    from counter.service.composition import build_backends
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


MAX_LISTED = 10  # library codes named in one line


def _codes(libraries) -> str:
    from counter.domain.text import shown

    codes = [shown(lib.library_id, 20) for lib in libraries]
    more = len(codes) - MAX_LISTED
    return ", ".join(codes[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _library_check(backend, home, libraries, error) -> Check:
    from counter.backend import Status
    from counter.domain.text import shown

    name = f"backend {backend.name} library"
    required = not backend.training
    if error is not None:
        if backend.missing_secret():
            return Check(name, False, "not checked: no credential (see the 'keyring' and 'backend' lines)",
                         required=required)
        if error.status is Status.UNAUTHORIZED:
            return Check(name, False, "Koha refuses the list of libraries: the API user needs the 'catalogue' "
                                      "permission (and the right password)", required=required)
        if libraries is not None:  # the list was read: nothing to choose from
            if not libraries:
                return Check(name, False, "Koha lists no library: new library cards cannot be made",
                             required=required)
            return Check(name, False, f"Koha has {len(libraries)} libraries ({_codes(libraries)}): set library_id "
                                      f"in [backends.{backend.name}] to the one new cards belong to",
                         required=required)
        return Check(name, False, f"cannot read Koha's libraries: {error.status.value}", required=required)
    if home.known is None:
        return Check(name, False, f"library_id {shown(home.library_id, 20)!r} is not one of Koha's libraries "
                                  f"({_codes(libraries)}): new cards would be refused", required=required)
    label = f"{shown(home.library_id, 20)} ({shown(home.known.name, 60)})" if home.known.name else \
        shown(home.library_id, 20)
    how = "set by library_id" if home.configured else "Koha's only library"
    return Check(name, True, f"new cards go to {label}, {how}", required=required)


def library_checks(runtime: Runtime) -> list[Check]:
    """Each Koha backend: does the library new cards belong to exist in Koha?"""
    import asyncio

    from backends.http import AgencyError
    from counter import registry
    from counter.service.composition import build_backends
    from counter.config import ConfigError

    try:
        backends = [b for b in build_backends(runtime, kinds=("koha",)) if hasattr(b, "home_library")]
    except (registry.PluginError, ConfigError):
        return []  # the 'backends' line says so

    async def probe(backend):
        home = libraries = None
        try:
            libraries = await backend.libraries()
            home = await backend.home_library(check=True)  # the list is cached: one request
        except AgencyError as exc:
            return home, libraries, exc
        return home, libraries, None

    async def probe_all():
        try:
            return await asyncio.gather(*(probe(b) for b in backends))
        finally:
            for backend in backends:
                await backend.aclose()

    if not backends:
        return []
    return [_library_check(backend, *found) for backend, found in zip(backends, asyncio.run(probe_all()), strict=True)]


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
    runtime = _with_secrets(runtime)
    checks.extend(credential_checks(runtime))
    checks.extend(library_checks(runtime))
    checks.extend(integrity_checks(runtime, checks))
    checks.extend(anchor_checks(runtime))
    checks.extend(mobile_checks(runtime))
    checks.append(file_modes_check(runtime))
    return checks


def mobile_checks(runtime: Runtime) -> list[Check]:
    """The roaming bus ([mobile]): the town's database it goes back to (reachable now or
    not: a bus is often offline, so only a warning), its password, and the background
    work its service leaves to central."""
    if not runtime.mobile:
        return []
    import asyncio

    from sqlalchemy.engine import make_url

    from counter.service.composition import BACKGROUND_WORK, background_work, central_needs_secret
    from counter.service.link import CENTRAL_SECRET, endpoint_of, reachable

    shown = make_url(runtime.central_url).render_as_string(hide_password=True)
    try:
        endpoint = endpoint_of(runtime.central_url)
    except ValueError as exc:
        return [Check("mobile central", False, f"{shown}: {exc}")]
    up = asyncio.run(reachable(endpoint))
    password = ""
    if central_needs_secret(runtime.central_url):
        read = runtime.secrets
        stored = read is not None and CENTRAL_SECRET in read.secrets
        password = (f", password in keyring entry {CENTRAL_SECRET!r}" if stored
                    else f", NO PASSWORD (counter credentials set {CENTRAL_SECRET})")
    checks = [
        Check("mobile bus", True, f"{runtime.bus}: a replica; its link is probed every "
                                  f"{runtime.link_probe_seconds} s while down"),
        Check("mobile central", up, f"{shown} {'reachable' if up else 'unreachable now (offline)'}{password}",
              required=False),
    ]
    skipped = [name for name in BACKGROUND_WORK if name not in background_work(runtime)]
    if skipped:
        checks.append(Check("mobile background", True, f"not run on a bus: {', '.join(skipped)} "
                                                       "(central runs them after `counter tour sync`)"))
    return checks


def _with_secrets(runtime: Runtime) -> Runtime:
    """The keyring read once for every check (an encrypted keyring asks for its password once)."""
    from dataclasses import replace

    from counter.service.composition import read_backend_secrets

    return runtime if runtime.secrets is not None else replace(runtime, secrets=read_backend_secrets(runtime))


def integrity_checks(runtime: Runtime, earlier: list[Check]) -> list[Check]:
    """The database's own consistency check: a file can open and still be damaged."""
    from counter.store import failures, integrity
    from counter.store.engine import Store, StoreError, normalise_url

    try:
        url = normalise_url(runtime.database_url)
    except StoreError:
        return []  # the database check says why
    if url.get_backend_name() == "sqlite":
        if not (url.database and os.path.isfile(url.database)):
            return []  # nothing to check yet (the database check says so)
    elif any(c.name == "database" and not c.ok for c in earlier):
        return []  # a server that did not answer is not waited for twice
    try:
        store = Store(url)
    except StoreError:
        return []
    try:
        result = integrity.check(store)
    except Exception as exc:  # noqa: BLE001 — unreachable: the database check says so
        return [Check("integrity", False, f"not checked: {failures.admin_message(exc)}", required=False)]
    finally:
        store.dispose()
    if not result.checked:
        return [Check("integrity", True, result.method, required=False)]
    if result.problems:
        count = len(result.problems)
        more = "+" if count >= integrity.MAX_PROBLEMS else ""
        return [Check("integrity", False, f"{store.describe()} is damaged ({result.method}: {count}{more} "
                                          f"problem(s), first: {result.problems[0]}): restore the last backup")]
    return [Check("integrity", True, f"{result.method}: ok")]


def anchor_checks(runtime: Runtime) -> list[Check]:
    """Can the audit chain's head be published ([audit] anchor)?"""
    import stat
    from pathlib import Path

    from counter.store.anchor import SYSLOG, SYSLOG_ADDRESS, target_for

    target = target_for(runtime)
    if target == SYSLOG:
        try:
            usable = stat.S_ISSOCK(os.stat(SYSLOG_ADDRESS).st_mode)
        except OSError:
            usable = False
        if usable:
            return [Check("audit anchor", True, f"syslog via {SYSLOG_ADDRESS} (tag counter-audit)")]
        return [Check("audit anchor", False, f"syslog: no socket at {SYSLOG_ADDRESS}, the audit head is published "
                                             "nowhere: set [audit] anchor = \"/path/to/file\"", required=False)]
    path = Path(target)
    folder = next((p for p in (path, *path.parents) if p.exists()), None)
    if path.exists():
        writable = path.is_file() and os.access(path, os.W_OK)
    else:  # created at the first write: its nearest existing folder must let us
        writable = folder is not None and folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
    if writable:
        return [Check("audit anchor", True, f"file {path}")]
    return [Check("audit anchor", False, f"file {path}: cannot be appended to", required=not runtime.training)]
