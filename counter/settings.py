"""The validated shape of the configuration file (see counter.config)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from counter.backend.settings import Strict
from counter.domain.library import LibraryCategory, LibraryRules
from counter.domain.rules import TownRules, default_rules
from counter.domain.tariffs import CrecheTariffRules, QfBracket


# A backend's name: a keyring entry, a section of `counter doctor`, a table name.
_BACKEND_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _names(table: dict, what: str) -> dict:
    for name in table:
        if not _BACKEND_NAME.fullmatch(name):
            raise ValueError(f"{what} name {name[:40]!r}: letters, digits, '_' and '-' only (40 at most)")
    return table


class DatabaseSettings(Strict):
    url: str

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from counter.store.engine import StoreError, normalise_url

        try:
            url = normalise_url(make_url(value))
        except (ArgumentError, StoreError, ValueError) as exc:
            raise ValueError(f"not a usable database URL ({exc})") from None
        if url.get_backend_name() == "sqlite" and not url.database:
            raise ValueError("a SQLite URL needs a file path: sqlite:////var/lib/counter/counter.db")
        if url.get_backend_name() == "postgresql" and not url.database:
            raise ValueError("a PostgreSQL URL needs a database name")
        return value


class TownSettings(Strict):
    name: str = Field(default="Bellerive-sur-Loire", min_length=1, max_length=80)


class UiSettings(Strict):
    theme: Literal["auto", "console", "textual-dark", "textual-light"] = "auto"
    # The screen locks after this many minutes without a key (1 to 60).
    idle_lock_minutes: int = Field(default=5, ge=1, le=60)


def _duration(value: str) -> str:
    from counter.domain.durations import parse_duration

    parse_duration(value)  # raises ValueError with the reason
    return value


class RetentionSettings(Strict):
    """How long the audit trail and unfinished drafts are kept (`counter purge`).

    The CNIL recommends keeping access logs between 6 months and 1 year."""

    audit: str = "1y"
    drafts: str = "30d"

    @field_validator("audit", "drafts")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value)


class AuditSettings(Strict):
    """Where the audit chain's head is published (counter.store.anchor)."""

    # "syslog" (/dev/log: journald or rsyslog) or an absolute file path, appended to.
    # Default: syslog in production, DATA_DIR/training/audit-anchor.log in training.
    anchor: str | None = Field(default=None, min_length=1, max_length=4096)

    @field_validator("anchor")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is None or value == "syslog":
            return value
        if not value.startswith("/"):
            raise ValueError('must be "syslog" or an absolute file path')
        if value.endswith("/"):
            raise ValueError("must name a file, not a directory")
        return value


# sun_path holds 108 bytes with its terminating NUL.
MAX_SOCKET_PATH = 107
SOCKET_MODES = (0o660, 0o600)


class ServiceSettings(Strict):
    """The counter service (`counter serve`): its socket and who may connect to it."""

    socket: str = Field(default="/run/counter/counter.sock", min_length=2)
    # The agents' group (e.g. "counter-agents"): the socket's group, so its members connect.
    group: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
    # 0o660: the group's members connect; 0o600: only the service's own account.
    mode: int = 0o660
    # Processes that rank searches (0: in the service itself). Unset: one per core, up to 4.
    search_processes: int | None = Field(default=None, ge=0, le=8)
    # This site's name in the statistics and on tickets (a town hall, an annex, a bus).
    site: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.'-]{0,39}$")

    @field_validator("socket")
    @classmethod
    def _socket_path(cls, value: str) -> str:
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError("must be the absolute path of a socket file, e.g. /run/counter/counter.sock")
        if len(value.encode("utf-8")) > MAX_SOCKET_PATH:
            raise ValueError(f"a socket path is {MAX_SOCKET_PATH} bytes at most (a limit of the system)")
        return value

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: int) -> int:
        if value not in SOCKET_MODES:
            raise ValueError("must be 0o660 (the group's members connect) or 0o600 (the service's account only); "
                             "never open to other accounts")
        return value


class EmulatorKnobs(Strict):
    """Failure knobs of an emulated agency, for trainers and tests."""

    latency_ms: int = Field(default=0, ge=0, le=120_000)  # added before every answer
    down: bool = False  # connection refused
    error_status: int | None = Field(default=None, ge=400, le=599)  # every request answers it
    malformed: bool = False  # 200 with a body that is not JSON
    drip_bytes_per_second: int = Field(default=0, ge=0)  # slow drip: the body trickles out
    huge_body: bool = False  # the answer padded far beyond what counter accepts
    not_utf8: bool = False  # the answer's text in UTF-16, not UTF-8
    # In every successful JSON answer, these fields left out / given the wrong type.
    drop_fields: list[str] = Field(default_factory=list)
    mistype_fields: list[str] = Field(default_factory=list)

    @field_validator("drop_fields", "mistype_fields")
    @classmethod
    def _field_names(cls, names: list[str]) -> list[str]:
        if any(not name.strip() for name in names):
            raise ValueError("a field name cannot be empty")
        return names


# -- the town's rules (counter.domain.rules); every table optional ------------------
# Amounts are TOML numbers in euros, converted to Decimal through their decimal text
# (1.05 stays 1.05), so a price is refused when it has fractions of a cent.


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def _in_cents(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{value} is not an amount in euros")
    if _decimal(value).as_tuple().exponent < -2:
        raise ValueError(f"{value} has fractions of a cent (two decimals at most)")
    return value


_RULES = default_rules()


class QfBracketSettings(Strict):
    up_to: int | None = Field(default=None, ge=0)  # inclusive; left out on the last bracket
    canteen: float = Field(ge=0)  # € per meal
    after_school: float = Field(ge=0)  # € per day

    _cents = field_validator("canteen", "after_school")(_in_cents)


class TariffSettings(Strict):
    qf_brackets: list[QfBracketSettings] = Field(default_factory=lambda: [
        QfBracketSettings(up_to=b.up_to, canteen=float(b.canteen), after_school=float(b.after_school))
        for b in _RULES.qf_brackets
    ])

    @field_validator("qf_brackets")
    @classmethod
    def _ordered(cls, brackets: list[QfBracketSettings]) -> list[QfBracketSettings]:
        if not brackets:
            raise ValueError("at least one bracket is needed (the last one, without up_to, is the full price)")
        for number, bracket in enumerate(brackets[:-1], start=1):
            if bracket.up_to is None:
                raise ValueError(f"bracket {number}: only the last bracket may leave out up_to")
            if number > 1 and bracket.up_to <= brackets[number - 2].up_to:
                raise ValueError(f"bracket {number}: up_to = {bracket.up_to} must be above the previous "
                                 f"bracket's {brackets[number - 2].up_to}")
        if brackets[-1].up_to is not None:
            raise ValueError("the last bracket has no up_to: it is the full price, for any QF above "
                             "the others and for families without a QF")
        return brackets


class CrecheTariffSettings(Strict):
    # Percent of monthly resources per hour, for 1, 2, 3… children in charge (CNAF).
    effort_rates: list[float] = Field(default_factory=lambda: [float(r) for r in _RULES.creche.effort_rates])
    # CNAF floor and ceiling of monthly resources; they change every year.
    monthly_floor: float = Field(default=float(_RULES.creche.monthly_floor), gt=0)
    monthly_ceiling: float = Field(default=float(_RULES.creche.monthly_ceiling), gt=0)

    _cents = field_validator("monthly_floor", "monthly_ceiling")(_in_cents)

    @field_validator("effort_rates")
    @classmethod
    def _scale(cls, rates: list[float]) -> list[float]:
        if not rates:
            raise ValueError("at least one rate is needed (the rate for one child)")
        for number, rate in enumerate(rates, start=1):
            if not 0 < rate < 1:
                raise ValueError(f"rate {number} = {rate}: a percentage per hour, such as 0.0619, "
                                 "positive and below 1")
            if number > 1 and rate > rates[number - 2]:
                raise ValueError(f"rate {number} = {rate} is above the rate for fewer children "
                                 f"({rates[number - 2]}): rates never increase with the children")
        return rates

    @model_validator(mode="after")
    def _floor_below_ceiling(self) -> CrecheTariffSettings:
        if self.monthly_floor >= self.monthly_ceiling:
            raise ValueError(f"monthly_floor ({self.monthly_floor}) must be below "
                             f"monthly_ceiling ({self.monthly_ceiling})")
        return self


class LibraryCategorySettings(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,10}$")  # the library system's code (Koha: 10 characters)
    label: str = Field(min_length=1, max_length=80)
    price: float = Field(ge=0)  # € per year; 0 = free

    _cents = field_validator("price")(_in_cents)


def _known_category(code: str | None, info: ValidationInfo) -> str | None:
    categories = info.data.get("categories")
    if code is None or categories is None:  # categories failed: reported already
        return code
    codes = [c.code for c in categories]
    if code not in codes:
        raise ValueError(f"'{code}' is not one of the categories ({', '.join(codes)})")
    return code


class LibrarySettings(Strict):
    categories: list[LibraryCategorySettings] = Field(default_factory=lambda: [
        LibraryCategorySettings(code=c.code, label=c.label, price=float(c.price))
        for c in _RULES.library.categories
    ])
    # Which category each case gets (validated even when left to the default,
    # so renaming a category without updating these is refused).
    adult: str = Field(default=_RULES.library.adult, validate_default=True)
    minor: str = Field(default=_RULES.library.minor, validate_default=True)
    student: str = Field(default=_RULES.library.student, validate_default=True)
    job_seeker: str = Field(default=_RULES.library.job_seeker, validate_default=True)
    c2s: str = Field(default=_RULES.library.c2s, validate_default=True)
    senior: str | None = Field(default=_RULES.library.senior, validate_default=True)
    senior_age: int | None = Field(default=_RULES.library.senior_age, ge=18, le=120)
    card_months: int = Field(default=_RULES.library.card_months, ge=1, le=60)  # validity of a new/renewed card

    @field_validator("categories")
    @classmethod
    def _unique(cls, categories: list[LibraryCategorySettings]) -> list[LibraryCategorySettings]:
        if not categories:
            raise ValueError("at least one category is needed")
        codes = [c.code for c in categories]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise ValueError(f"code {', '.join(twice)} given twice")
        return categories

    _known = field_validator("adult", "minor", "student", "job_seeker", "c2s", "senior")(_known_category)

    @model_validator(mode="after")
    def _senior_pair(self) -> LibrarySettings:
        if (self.senior is None) != (self.senior_age is None):
            raise ValueError("senior and senior_age go together: give both or neither")
        return self


class PrintingSettings(Strict):
    printer: str | None = None  # CUPS queue for `lp -d NAME`; None: nothing is printed

    @field_validator("printer")
    @classmethod
    def _queue_name(cls, value: str | None) -> str | None:
        # CUPS names: printable, no space, '/', '#' or '\'; no leading '-' (read as an option).
        if value is not None and not re.fullmatch(r"[^\s/#\\-][^\s/#\\]{0,126}", value):
            raise ValueError("not a CUPS printer name (no spaces, '/', '#' or '\\'; not starting with '-')")
        return value


class SyncSettings(Strict):
    """[sync]: the family system's change feed, pulled by the service when a
    ``city`` backend is configured (``counter sync`` runs one pass on demand)."""

    enabled: bool = True  # false: only `counter sync` pulls the feed
    interval_minutes: int = Field(default=10, ge=1, le=24 * 60)  # between two passes
    warn_after_hours: int = Field(default=24, ge=1, le=24 * 30)  # agents are warned past this age


class ChoiceSettings(Strict):
    """One entry of a front-desk list: the code stored and counted, the label shown."""

    code: str = Field(pattern=r"^[a-z0-9_-]{1,20}$")
    label: str = Field(min_length=1, max_length=40)


def _choices(value: list, what: str) -> list:
    seen = set()
    for choice in value:
        if choice.code in seen:
            raise ValueError(f"{what}: the code {choice.code!r} is given twice")
        seen.add(choice.code)
    if not value:
        raise ValueError(f"{what}: at least one entry")
    return value


def _default_choices(name: str) -> list:
    from counter.domain import front_desk

    return [ChoiceSettings(code=c.code, label=c.label) for c in getattr(front_desk, name)]


class VisitSettings(Strict):
    """[visits]: why families come and where they are sent (docs/front-desk.md)."""

    reasons: list[ChoiceSettings] = Field(default_factory=lambda: _default_choices("REASONS"), max_length=30)
    redirections: list[ChoiceSettings] = Field(default_factory=lambda: _default_choices("REDIRECTIONS"),
                                               max_length=30)

    @field_validator("reasons", "redirections")
    @classmethod
    def _unique(cls, value: list, info: ValidationInfo) -> list:
        return _choices(value, info.field_name)


class QueueSettings(Strict):
    """[queue]: the reception issues tickets that the agents call (docs/front-desk.md)."""

    enabled: bool = False
    needs: list[ChoiceSettings] = Field(default_factory=lambda: _default_choices("NEEDS"), max_length=30)
    # What the waiting room's display says for an agent (login -> « Guichet 2 »); else the login.
    desks: dict[str, str] = Field(default_factory=dict, max_length=100)

    @field_validator("needs")
    @classmethod
    def _unique(cls, value: list, info: ValidationInfo) -> list:
        return _choices(value, info.field_name)

    @field_validator("desks")
    @classmethod
    def _desks(cls, value: dict) -> dict:
        for login, label in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", login):
                raise ValueError(f"desks: {login[:40]!r} is not an agent's login")
            if not re.fullmatch(r"[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]{1,30}", label):
                raise ValueError(f"desks: the label of {login!r} is 1 to 30 printable characters")
        return value


class MobileSettings(Strict):
    """[mobile]: this counter travels (the roaming bus, docs/tour.md). Its [database] is
    the replica made by `counter tour prepare`; what is done on board goes back to the
    town's database at ``central_url`` with `counter tour sync` (and by itself when
    the link returns). A password the URL does not hold is read from the service's
    keyring, entry ``mobile.central`` (`counter credentials set mobile.central`)."""

    bus: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,19}$")  # in keys, audit entries and reports
    central_url: str
    # Seconds between two tries of the link to the town's database while it is down.
    probe_seconds: int = Field(default=15, ge=2, le=600)

    @field_validator("central_url")
    @classmethod
    def _central(cls, value: str) -> str:
        return DatabaseSettings(url=value).url


class Settings(Strict):
    mode: Literal["production", "training"] = "production"
    data_dir: str | None = Field(default=None, min_length=1, max_length=4096)
    town: TownSettings = TownSettings()
    database: DatabaseSettings | None = None
    ui: UiSettings = UiSettings()
    retention: RetentionSettings = RetentionSettings()
    audit: AuditSettings = AuditSettings()
    service: ServiceSettings = ServiceSettings()
    # Raw here; each is validated against its plugin's own model (counter.config).
    backends: dict[str, dict] = Field(default_factory=dict)
    emulators: dict[str, EmulatorKnobs] = Field(default_factory=dict)
    # The town's rules; each table optional, defaults = counter.domain.rules.default_rules().
    tariffs: TariffSettings = Field(default_factory=TariffSettings)
    creche_tariff: CrecheTariffSettings = Field(default_factory=CrecheTariffSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    printing: PrintingSettings = Field(default_factory=PrintingSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    mobile: MobileSettings | None = None  # the roaming bus (docs/tour.md)
    visits: VisitSettings = Field(default_factory=VisitSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    # The terminals' keys a site changes: binding id -> key(s) (counter.domain.keys).
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys", mode="before")
    @classmethod
    def _keymap(cls, table):
        from counter.domain.keys import KeymapError, check_keymap

        if not isinstance(table, dict):
            return table  # refused as a wrong type
        try:
            return check_keymap(table)
        except KeymapError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("backends")
    @classmethod
    def _backend_names(cls, backends: dict) -> dict:
        return _names(backends, "backend")

    @field_validator("emulators", mode="before")
    @classmethod
    def _emulator_names(cls, emulators):
        return _names(emulators, "emulator") if isinstance(emulators, dict) else emulators

    @model_validator(mode="after")
    def _database_matches_mode(self) -> Settings:
        if self.mode == "production" and self.database is None:
            raise ValueError("missing key 'database' (production needs [database] url = …)")
        if self.mode == "training" and self.database is not None:
            raise ValueError("training mode uses its own database: remove [database]")
        if self.mode == "training" and self.mobile is not None:
            # Training plays the bus under a scenario (`counter train bus-itinerant`), its
            # town hall being the training database: [mobile] is a real bus's.
            raise ValueError("training mode has no [mobile]: the bus is played by 'counter train bus-itinerant'")
        if self.mobile is not None and self.database is not None and not self.database.url.startswith("sqlite"):
            raise ValueError("[mobile]: the bus's [database] is its SQLite replica (counter tour prepare)")
        return self

    def front_desk(self):
        """The site's front desk (counter.domain.front_desk.FrontDesk)."""
        from counter.domain.front_desk import SITE, Choice, FrontDesk

        def listed(entries) -> tuple:
            return tuple(Choice(e.code, e.label) for e in entries)

        site = self.service.site or (self.mobile.bus if self.mobile is not None else SITE)
        return FrontDesk(site=site, queue=self.queue.enabled, reasons=listed(self.visits.reasons),
                         redirections=listed(self.visits.redirections), needs=listed(self.queue.needs),
                         desks=tuple(sorted(self.queue.desks.items())))

    def town_rules(self) -> TownRules:
        library = self.library
        return TownRules(
            qf_brackets=tuple(QfBracket(b.up_to, _decimal(b.canteen), _decimal(b.after_school))
                              for b in self.tariffs.qf_brackets),
            creche=CrecheTariffRules(
                effort_rates=tuple(_decimal(r) for r in self.creche_tariff.effort_rates),
                monthly_floor=_decimal(self.creche_tariff.monthly_floor),
                monthly_ceiling=_decimal(self.creche_tariff.monthly_ceiling),
            ),
            library=LibraryRules(
                categories=tuple(LibraryCategory(c.code, c.label, _decimal(c.price)) for c in library.categories),
                adult=library.adult, minor=library.minor, student=library.student,
                job_seeker=library.job_seeker, c2s=library.c2s,
                senior=library.senior, senior_age=library.senior_age, card_months=library.card_months,
            ),
            printer=self.printing.printer,
        )
