"""The running context: mode, configuration, data directory, database, agent.

Resolved once by the CLI and handed to the app factory; nothing here opens the
database or imports a heavy module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from counter.clock import SystemClock

if TYPE_CHECKING:
    from counter.domain.rules import TownRules

ENV_CONFIG = "COUNTER_CONFIG"
ENV_HOME = "COUNTER_HOME"
TRAINING_DB = "training/counter.sqlite3"
DEFAULT_TOWN = "Bellerive-sur-Loire"


@dataclass(frozen=True)
class Runtime:
    mode: str  # "training" | "production"
    data_dir: Path
    database_url: str
    config_path: Path | None = None
    town_name: str = DEFAULT_TOWN
    theme: str = "auto"
    agent_login: str = ""
    # The agent's role: production reads it from the agents table at start;
    # training is run by trainers.
    role: str = "trainer"
    clock: object = field(default_factory=SystemClock)
    # Validated backend settings by name; None: the training defaults, validated
    # when the services open (keeps pydantic off the start-up path).
    backends: Mapping[str, Any] | None = None
    emulators: Mapping[str, Any] = field(default_factory=dict)
    # Tariffs, library categories, printer from the configuration; None: the
    # defaults (counter.domain.rules.default_rules()).
    rules: TownRules | None = None
    # The backends' secrets (counter.credentials.KeyringRead), read by the CLI
    # before the app takes the terminal; None: not read yet.
    secrets: Any = None
    # The training scenario (fixtures.scenarios.Scenario) of `counter train NAME`; None: plain training.
    scenario: Any = None
    idle_lock_minutes: int = 5
    # [keys]: binding id -> key(s), checked (counter.domain.keys); the terminals apply it.
    keymap: Mapping[str, str] = field(default_factory=dict)
    retention_audit: str = "1y"
    retention_drafts: str = "30d"
    # [audit] anchor: "syslog" or a file; "" = the mode's default (counter.store.anchor.target_for).
    audit_anchor: str = ""
    # [service]: where `counter serve` listens (None: the default), the socket's group and mode.
    service_socket: Path | None = None
    service_group: str | None = None
    service_mode: int = 0o660
    search_processes: int | None = None  # [service] search_processes; None: one per core, up to 4
    # [sync]: the family system's change feed (counter.services.family_sync).
    sync_enabled: bool = True
    sync_interval_minutes: int = 10
    sync_warn_after_hours: int = 24
    # [mobile]: this counter is the roaming bus (docs/tour.md); "": a town hall's counter.
    bus: str = ""
    central_url: str = ""  # the town's database as configured (its password may be in the keyring)
    link_probe_seconds: int = 15  # between two tries of the link while it is down
    # The front desk: site, tickets or not, reasons, redirections, needs (counter.domain.front_desk).
    front_desk: Any = None  # None: the defaults (FrontDesk()), or the bus's name as its site

    def desk(self):
        """The site's front desk, the defaults when the configuration says nothing."""
        from counter.domain.front_desk import SITE, FrontDesk

        if self.front_desk is not None:
            return self.front_desk
        # Training without a configuration file: the queue is on, for the trainees to practise it.
        return FrontDesk(site=self.bus or SITE, queue=self.training)

    @property
    def training(self) -> bool:
        return self.mode == "training"

    @property
    def mobile(self) -> bool:
        """This counter travels: its database is a replica, central takes places and delivers."""
        return bool(self.bus)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


class UnknownAccount(Exception):
    """The process's real user id has no name in the system's user database."""

    def __init__(self, uid: int) -> None:
        super().__init__(f"uid {uid} has no name in the system's user database")
        self.uid = uid


def os_login() -> str:
    """The login of the process's real user id, as the kernel and the system's user
    database know it. Never LOGNAME or USER (which ``getpass.getuser`` reads first):
    anyone can set those. Raises UnknownAccount for a uid without a passwd entry."""
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        raise UnknownAccount(uid) from None


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("counter", appauthor=False))


def config_path_from(arg: str | None, env: Mapping[str, str]) -> Path | None:
    value = arg or env.get(ENV_CONFIG) or None
    return Path(value).expanduser() if value else None


def resolve(config_arg: str | None = None, env: Mapping[str, str] | None = None, **overrides) -> Runtime:
    """Work out the mode and paths; raises ConfigError for a bad configuration,
    UnknownAccount when the process's uid has no login.

    ``agent_login`` may be given by code (replays, tests), never by the environment."""
    env = os.environ if env is None else env
    path = config_path_from(config_arg, env)
    # The agent is the operating-system login (checked against the agents table in production).
    login = overrides.pop("agent_login", None) or os_login()
    if path is None:
        data_dir = Path(env[ENV_HOME]).expanduser() if env.get(ENV_HOME) else default_data_dir()
        return Runtime(
            mode="training",
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / TRAINING_DB}",
            agent_login=login,
            **overrides,
        )

    from counter.config import load_settings, validate_backends

    settings = load_settings(path)
    backends = validate_backends(settings, str(path)) if settings.backends else None
    if env.get(ENV_HOME):
        data_dir = Path(env[ENV_HOME]).expanduser()
    elif settings.data_dir:
        data_dir = Path(settings.data_dir).expanduser()
    else:
        data_dir = default_data_dir()
    training = settings.mode == "training"
    return Runtime(
        mode=settings.mode,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / TRAINING_DB}" if training else settings.database.url,
        config_path=path,
        town_name=settings.town.name,
        theme=settings.ui.theme,
        agent_login=login,
        backends=backends if backends is not None or training else {},
        emulators=dict(settings.emulators),
        rules=settings.town_rules(),
        idle_lock_minutes=settings.ui.idle_lock_minutes,
        keymap=dict(settings.keys),
        retention_audit=settings.retention.audit,
        retention_drafts=settings.retention.drafts,
        audit_anchor=settings.audit.anchor or "",
        service_socket=Path(settings.service.socket),
        service_group=settings.service.group,
        service_mode=settings.service.mode,
        search_processes=settings.service.search_processes,
        sync_enabled=settings.sync.enabled,
        sync_interval_minutes=settings.sync.interval_minutes,
        sync_warn_after_hours=settings.sync.warn_after_hours,
        **_mobile(settings),
        front_desk=settings.front_desk(),
        **overrides,
    )


def _mobile(settings) -> dict[str, Any]:
    mobile = settings.mobile
    if mobile is None:
        return {}
    return {"bus": mobile.bus, "central_url": mobile.central_url, "link_probe_seconds": mobile.probe_seconds}
