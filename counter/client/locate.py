"""Finding the counter service: where the terminal and the administrators'
commands connect, starting a private training service when there is none.

Light on purpose (the terminal imports it at start): the standard library only,
no pydantic, no SQLAlchemy. In order:

1. ``--connect PATH`` or ``COUNTER_SOCKET``: the service is there. These only
   say WHERE the service is; who is connecting always comes from the kernel.
2. A configuration file (``--config`` / ``COUNTER_CONFIG``): its ``[service]
   socket`` (default ``/run/counter/counter.sock``); a training configuration
   without one gets a private service of its own.
3. ``/run/counter/counter.sock`` when it exists (a site's or a training room's
   service).
4. A private training service under the data directory
   (``DATA_DIR/run/counter.sock``, directory 0700, socket 0600): reused if it
   answers, else started (``counter serve --private``, detached from the
   terminal) under a file lock, so two terminals started at once start one.
   ``counter train NAME`` gets a private service of its own per scenario
   (``DATA_DIR/run/train-<digest of NAME>.sock``).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from counter.client.errors import ServiceUnavailable

ENV_SOCKET = "COUNTER_SOCKET"
ENV_CONFIG = "COUNTER_CONFIG"
ENV_HOME = "COUNTER_HOME"
SYSTEM_SOCKET = Path("/run/counter/counter.sock")
RUN_DIR = "run"  # under the data directory: private services' sockets and locks
RUN_MODE = 0o700
START_TIMEOUT = 60.0  # seconds for a private service to answer (it answers before its database is ready)
OUTPUT_LOG = "logs/service.out"  # what a private service prints (a crash at start) goes there
MAX_CONFIG = 256 * 1024
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


class ServiceNotStarted(ServiceUnavailable):
    """A private service could not be started; French message, ``english`` for the
    administrators' commands, ``exit_status`` for the command that asked."""

    def __init__(self, message: str, english: str, exit_status: int = 1) -> None:
        super().__init__(message, english)
        self.exit_status = exit_status


class LocateConfigError(Exception):
    """The configuration file cannot be read for its ``[service]`` table (English).
    Exit status 2, as counter.config.ConfigError."""

    exit_status = 2


def find_service(connect: str | os.PathLike | None = None, config: str | os.PathLike | None = None,
                 env: Mapping[str, str] | None = None, *, scenario: str | None = None,
                 start: bool = True) -> Path:
    """The socket of the counter service to talk to (see the module's docstring).

    ``scenario``: a training scenario's name or file (``counter train NAME``): a
    private service living it, on its own socket. ``start=False``: never start a
    private service (its socket is returned whether it answers or not).
    Raises ServiceNotStarted, LocateConfigError.
    """
    env = os.environ if env is None else env
    if connect:
        return Path(connect).expanduser()
    if env.get(ENV_SOCKET):
        return Path(env[ENV_SOCKET]).expanduser()
    config = config or env.get(ENV_CONFIG) or None
    if config:
        path = Path(config).expanduser()
        site = read_service_table(path)
        if site.get("socket"):
            return Path(site["socket"])
        if site.get("mode", "production") != "training":
            return SYSTEM_SOCKET
        # A training configuration without a service of its own: a private one, per file.
        key = "config-" + _digest(os.fsencode(path.resolve()))
        serve = ["--scenario", _scenario_arg(scenario)] if scenario else []
        if scenario:
            key = f"{key}-{_scenario_key(scenario)}"
        return private_service(data_dir(env, site.get("data_dir")), key, serve,
                               config=path.resolve(), start=start)
    if scenario:
        return private_service(data_dir(env), f"train-{_scenario_key(scenario)}",
                               ["--scenario", _scenario_arg(scenario)], start=start)
    if _is_socket(SYSTEM_SOCKET):
        return SYSTEM_SOCKET
    return private_service(data_dir(env), "counter", start=start)


def data_dir(env: Mapping[str, str] | None = None, configured: str | None = None) -> Path:
    """The data directory, as counter.runtime.resolve works it out."""
    env = os.environ if env is None else env
    if env.get(ENV_HOME):
        return Path(env[ENV_HOME]).expanduser()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("counter", appauthor=False))


def read_service_table(path: Path) -> dict:
    """``mode``, ``data_dir`` and ``[service] socket`` of a configuration file, read
    with tomllib (the service validates the whole file: this only finds it)."""
    from counter.files import UnreadableFile, read_toml

    try:
        data = read_toml(path, "the configuration file", MAX_CONFIG)
    except UnreadableFile as exc:
        raise LocateConfigError(str(exc)) from None
    service = data.get("service", {})
    found = {"mode": data.get("mode", "production"), "data_dir": data.get("data_dir"),
             "socket": service.get("socket") if isinstance(service, dict) else None}
    for key, value in found.items():
        if value is not None and not isinstance(value, str):
            name = "service.socket" if key == "socket" else key
            raise LocateConfigError(f"{path}: key '{name}': wrong type (input should be a valid string)")
    return found


def answers(path: Path, timeout: float = 1.0) -> bool:
    """Does a process accept connections on this socket?"""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(timeout)
        probe.connect(os.fsencode(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def why_unreachable(path: Path) -> str:
    """In English, for the administrators' commands: why nothing answers at ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2.0)
        probe.connect(os.fsencode(path))
    except FileNotFoundError:
        return f"no counter service at {path} (is 'counter serve' running? see docs/administration.md)"
    except PermissionError:
        return (f"permission denied on {path}: this account may not connect to the counter service "
                "(is it in the socket's group? see docs/administration.md)")
    except ConnectionRefusedError:
        return f"the counter service at {path} is not running (the socket is left from a stopped service)"
    except OSError as exc:
        return f"cannot reach the counter service at {path}: {exc.strerror or type(exc).__name__}"
    finally:
        probe.close()
    return f"the counter service at {path} does not answer"


def _is_socket(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _scenario_arg(scenario: str) -> str:
    """A scenario given as a file is passed on as an absolute path (the service runs from /)."""
    if _NAME.fullmatch(scenario):
        return scenario
    return str(Path(scenario).expanduser().resolve())


def _scenario_key(scenario: str) -> str:
    return _digest(os.fsencode(_scenario_arg(scenario)))


def _digest(data: bytes) -> str:
    """Short: a socket's whole path is 107 bytes at most."""
    return hashlib.sha256(data).hexdigest()[:12]


# -- the private training service ---------------------------------------------------------------


def private_service(data: Path, key: str = "counter", serve_options: list[str] | None = None, *,
                    config: Path | None = None, start: bool = True) -> Path:
    """``DATA_DIR/run/KEY.sock``: reused if it answers, else started (once, under a
    lock) with ``serve_options`` (a scenario) and ``config`` (a training configuration)."""
    run = data / RUN_DIR
    sock = run / f"{key}.sock"
    if not start:
        return sock
    if answers(sock):
        return sock
    try:
        _private_run_dir(run)
    except OSError as exc:
        raise ServiceNotStarted(
            f"Le guichet ne peut pas démarrer : le dossier {run} est inutilisable "
            f"({exc.strerror or type(exc).__name__}). Prévenez l'administrateur.",
            f"cannot use {run} for the private counter service ({exc.strerror or type(exc).__name__})") from None
    if len(os.fsencode(sock)) > 107:
        raise ServiceNotStarted(
            f"Le guichet ne peut pas démarrer : le chemin {sock} est trop long pour une socket "
            "(107 octets au plus). Choisissez un dossier de données plus court (COUNTER_HOME).",
            f"the socket path {sock} is longer than 107 bytes: choose a shorter data directory (COUNTER_HOME)")
    with _locked(run / f"{key}.lock"):
        if not answers(sock):  # another terminal may have started it while we waited
            _start(data, sock, serve_options or [], config)
    return sock


def stop_private_services(data: Path, timeout: float = 30.0) -> list[int]:
    """Stop the private services of this account under ``data`` (`counter train
    --reset` replaces the database they hold open); the pids stopped. Each is
    found by its socket's peer credentials and must run as this very account."""
    import select
    import signal

    from counter.peers import peer_of

    stopped = []
    for sock in sorted((data / RUN_DIR).glob("*.sock")):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1.0)
            probe.connect(os.fsencode(sock))
            peer = peer_of(probe)
        except OSError:
            continue  # nobody there (a socket left by a killed service)
        finally:
            probe.close()
        if peer.uid != os.getuid() or peer.pid <= 1:
            continue
        try:
            handle = os.pidfd_open(peer.pid)
        except OSError:
            continue
        try:
            os.kill(peer.pid, signal.SIGTERM)
            select.select([handle], [], [], timeout)  # until it has exited (its socket removed)
            stopped.append(peer.pid)
        except OSError:
            pass
        finally:
            os.close(handle)
    return stopped


def _private_run_dir(run: Path) -> None:
    """The run directory, ours and 0700: nobody else may reach a private socket."""
    from counter.files import private_dir

    private_dir(run.parent)
    try:
        os.mkdir(run, RUN_MODE)
    except FileExistsError:
        pass
    info = os.lstat(run)
    import stat

    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(13, "not a directory of this account", str(run))
    if stat.S_IMODE(info.st_mode) != RUN_MODE:
        os.chmod(run, RUN_MODE)


@contextmanager
def _locked(path: Path):
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the holder waits START_TIMEOUT at most
        yield
    finally:
        os.close(fd)


def _start(data: Path, sock: Path, serve_options: list[str], config: Path | None) -> None:
    """``counter serve --private`` detached from this terminal (its own session, no
    terminal, output to its log); returns once its socket answers."""
    from counter.files import FILE_MODE, private_dir

    output = data / OUTPUT_LOG
    private_dir(output.parent)
    out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    offset = os.fstat(out).st_size
    # The service says READY=1 here once its socket answers (as it would to systemd).
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"counter-start-{os.getpid()}-{os.urandom(6).hex()}"
    notify.bind("\0" + name)
    env = dict(os.environ)
    env.pop(ENV_SOCKET, None)
    env[ENV_HOME] = str(data)  # the same data directory, whichever way this process found it
    env["NOTIFY_SOCKET"] = "@" + name
    command = [sys.executable, "-m", "counter", *(["--config", str(config)] if config else []),
               "serve", "--private", "--socket", str(sock), *serve_options]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd="/",
                                   start_new_session=True, close_fds=True)
    except OSError as exc:
        notify.close()
        os.close(out)
        raise ServiceNotStarted(
            f"Le service du guichet n'a pas pu être lancé ({exc.strerror or type(exc).__name__}).",
            f"the private counter service could not be started ({exc.strerror or type(exc).__name__})") from None
    os.close(out)
    try:
        _wait_ready(process, notify, sock, output, offset)
    finally:
        notify.close()


def _wait_ready(process: subprocess.Popen, notify: socket.socket, sock: Path, output: Path, offset: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    notify.settimeout(0.25)
    while time.monotonic() < deadline:
        try:
            if b"READY=1" in notify.recv(256) and answers(sock):
                return
        except TimeoutError:
            pass
        status = process.poll()
        if status is not None:
            if answers(sock):  # another one answers there after all
                return
            said = _said_since(output, offset)
            raise ServiceNotStarted(
                said if status == 2 and said else
                f"Le service du guichet s'est arrêté au démarrage (code {status}) : voir {output}.",
                f"the private counter service stopped at start (exit status {status}): see {output}"
                + (f": {said}" if said else ""),
                exit_status=status if status in (1, 2) else 1)
    process.terminate()  # ours, by its id
    raise ServiceNotStarted(
        f"Le service du guichet ne répond pas après {START_TIMEOUT:.0f} s : voir {output}.",
        f"the private counter service did not answer within {START_TIMEOUT:.0f} s: see {output}")


def _said_since(output: Path, offset: int, limit: int = 2000) -> str:
    """The last line the service printed before it stopped (a usage error, a bad scenario)."""
    try:
        with open(output, "rb") as handle:
            handle.seek(offset)
            text = handle.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""
