"""Kinds of registration (school, crèche, library…) as plugins: the protocol.

A kind is one package (see ``registrations/``) registered under the
``counter.registrations`` entry-point group (pyproject.toml), discovered by
``counter.registry`` like the agency backends. Its entry point names an
instance of a :class:`RegistrationKind` subclass: the pure declaration and
rules (imports the domain only). Two more parts, loaded lazily by the side
that needs them, live beside it in the same package:

- ``form``: the TUI part (Textual), a module with
  ``open_form(env: FormEnv, request, values) -> Screen`` (a modal returning the
  request, or None when cancelled); it never imports the service side.
- ``service``: the store side, a module with ``service``, an object following
  :class:`KindService` (capacity at confirmation, the delivery payload,
  cancellation).

Everything that used to test a request's type (the visit's checks and summary,
the receipt, the registrations screen, the outbox, the confirmation) asks the
kind instead: ``kind_of(request)``, ``kind(kind_id)``, ``all_kinds()``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from counter.domain.papers import Paper
    from counter.domain.registrations import RegistrationDetail, RegistrationView
    from counter.domain.rules import TownRules
    from counter.domain.visit_context import Member, VisitContext
    from counter.domain.visit_summary import VisitFacts
    from counter.domain.visits import FieldError, RegState, Request, VisitDraft

GROUP = "counter.registrations"
MAX_KIND_ID = 32  # registration.kind (migration 0007)

Capacity = Literal["places", "waiting_list", "none"]


class UnknownKind(ValueError, LookupError):
    """No installed kind has this id (or request type)."""


class RegistrationKind:
    """One kind of registration: its declaration and its pure rules.

    Subclass it, set the class attributes, override the methods the kind needs
    (the defaults suit a kind without prices, capacity or extra papers), and
    register an instance under ``counter.registrations`` in pyproject.toml.
    """

    # -- declaration ------------------------------------------------------------------
    id: ClassVar[str]  # stored in registration.kind and the drafts' JSON: never change it (≤ MAX_KIND_ID)
    label: ClassVar[str]  # French: "École" (summary, receipt, registrations screen)
    order: ClassVar[int] = 100  # position among the kinds: visit keys, lists
    request_type: ClassVar[type]  # a frozen dataclass subclassing counter.domain.visits.Request
    # The visit screen's key: Binding(key, f"add('{id}')", key_label, id=f"visit.{id}", tooltip=key_tooltip).
    key: ClassVar[str]
    key_label: ClassVar[str]
    key_tooltip: ClassVar[str] = ""
    # Whether the key shows in the visit screen's footer. At 80 columns the footer
    # holds three kinds' keys beside the visit's own: a kind added later leaves its
    # key out of it (the key works all the same, and Ctrl+P lists it).
    key_shown: ClassVar[bool] = True
    # The backend kind (counter.backends) that receives these registrations; the
    # first enabled backend of that kind is the outbox target.
    target: ClassVar[str]
    capacity: ClassVar[Capacity] = "none"  # places booked / waiting list / none (the service part applies it)
    # Receipt wording of a registration still to be sent (RegState.TO_DELIVER).
    to_deliver_label: ClassVar[str] = "à transmettre à la mairie"
    # Said before a supervisor cancels a registration already delivered, and after.
    delivered_cancel_consequence: ClassVar[str] = "Déjà transmise à la mairie : l'annulation lui sera envoyée."
    delivered_not_told: ClassVar[str] = " Elle avait déjà été transmise à « {target} » : prévenez ce service de l'annulation."
    # Said after a cancellation that gave a place back (the service part's ``cancelled`` is True).
    place_freed: ClassVar[str] = " La place est rendue."
    # The visit's opening hint names each kind's key with this (lower case, short).
    hint_label: ClassVar[str] = ""
    # Lazily imported parts of the package (default: beside the declaration's module).
    form_module: ClassVar[str | None] = None
    service_module: ClassVar[str | None] = None

    @property
    def value(self) -> str:
        """The id, as ``Kind.X.value`` read before kinds were plugins."""
        return self.id

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<kind {self.id}>"

    # -- the request ----------------------------------------------------------------------

    def person_id(self, request: Request) -> int | None:
        """The person registered (None: somebody not born yet…)."""
        return getattr(request, "person_id", None)

    def encode(self, request: Request) -> dict[str, Any]:
        """The request as plain JSON values (drafts, registration.details)."""
        from dataclasses import asdict

        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(request).items()}

    def decode(self, values: dict[str, Any]) -> Request:
        """The inverse of :meth:`encode`; unknown keys are dropped (older drafts)."""
        names = {f.name: f for f in fields(self.request_type)}
        kept = {}
        for key, value in values.items():
            if key not in names:
                continue
            if isinstance(value, str) and value and "date" in str(names[key].type).replace("datetime", ""):
                value = date.fromisoformat(value)
            elif isinstance(value, list):
                value = tuple(value)
            kept[key] = value
        return self.request_type(**kept)

    def duplicate_key(self, request: Request) -> tuple:
        """Two requests of one visit with the same key are the same request twice."""
        return (self.id, self.person_id(request))

    # -- checks ------------------------------------------------------------------------------

    def check(self, request: Request, context: VisitContext, today: date,
              library_codes: set[str]) -> list[FieldError]:
        """Every problem of this request in this visit, each at its field (French)."""
        return []

    # -- what the visit comes to ---------------------------------------------------------------

    def short(self, request: Request, context: VisitContext) -> tuple[str, str]:
        """(who, what) in a few words, for a table column."""
        member = context.member(self.person_id(request))
        return (member.label if member is not None else "?"), self.label

    def describe(self, request: Request, context: VisitContext, today: date) -> tuple[str, str]:
        """(who, what) in full, for the summary and the receipt."""
        return describe_member(context.member(self.person_id(request))), self.label

    def prices(self, request: Request, draft: VisitDraft, facts: VisitFacts, rules: TownRules,
               context: VisitContext, today: date) -> tuple[str, ...]:
        """The prices, worded (the agencies' facts decide the bracket)."""
        return ()

    def papers(self, request: Request, context: VisitContext, facts: VisitFacts,
               today: date) -> tuple[Paper, ...]:
        """The papers needed, each with the agency whose fact waives it (or None: to bring)."""
        return ()

    def state_wording(self, state: RegState, rank: int | None, *, rank_confirmed: bool = False) -> tuple[str, str] | None:
        """(state label, detail) on the receipt, or None for the common wording."""
        from counter.domain.reg_states import RegState

        if state is RegState.TO_DELIVER:
            return self.to_deliver_label, ""
        return None

    # -- the registrations screen ------------------------------------------------------------

    def view_lines(self, view: RegistrationView) -> list[str]:
        """What the list of registrations says of one, between its heading and its state."""
        return []

    def detail_lines(self, detail: RegistrationDetail) -> list[str]:
        """What the detail of one says of the request (``detail.details``: as encoded)."""
        return []

    # -- the other parts -----------------------------------------------------------------------

    def _part(self, name: str, declared: str | None) -> Any:
        module = declared or f"{type(self).__module__.rpartition('.')[0]}.{name}"
        return importlib.import_module(module)

    def form(self):
        """The TUI part (Textual): a module with ``open_form(env, request, values)``."""
        return self._part("form", self.form_module)

    def service(self) -> KindService:
        """The store side (capacity, delivery payload, cancellation)."""
        return self._part("service", self.service_module).service


def describe_member(member: Member | None) -> str:
    """"Léa GIRAUD (née le 25/11/2018)", or "?" for somebody the visit does not know."""
    if member is None:
        return "?"
    born = "née" if member.sex == "F" else "né"
    return f"{member.label} ({born} le {member.birth.display()})"


@dataclass(frozen=True)
class FormEnv:
    """What a kind's form is opened with by the visit screen (no Textual here)."""

    context: VisitContext
    today: date
    rules: TownRules
    facts: VisitFacts | None
    check: Callable[[Request], list[FieldError]]  # the service's rules, run as the agent types
    on_edit: Callable[[dict], None]  # every change of the raw fields, kept as a draft


@dataclass(frozen=True)
class Registered:
    """What the service part decided for one request at confirmation."""

    state: RegState
    rank: int | None = None  # a waiting list's provisional rank
    note: str = ""  # said on the receipt (French)


@dataclass(frozen=True)
class DeliveryContext:
    """What every kind's delivery payload may use, gathered once per confirmation."""

    context: VisitContext
    today: date
    city_ids: dict[int, str]  # person id → the town's family system's id, when known
    valid_until: date  # a library card made or renewed today
    adults: tuple[Member, ...]  # the household's parents, guardians, the person alone

    def city_id(self, person_id: int | None) -> str | None:
        return self.city_ids.get(person_id) if person_id is not None else None


class KindService(Protocol):
    """The store side of a kind: runs inside the confirming (or cancelling) transaction."""

    def context_data(self, connection, household_id: int | None, person_ids: list[int], today: date) -> Any:
        """What the kind's form and rules need beyond the common context, as plain JSON
        values (it crosses the socket): ``VisitContext.extra[kind id]``; None: nothing."""

    def prepare(self, session, store, requests: list[Request]) -> None:
        """Before any request of this kind is registered (e.g. lock waiting lists)."""

    def register(self, session, registration, request: Request) -> Registered:
        """Book a place, take a rank…; fill the row's own columns (``registration``, not yet flushed)."""

    def payload(self, request: Request, registration_id: int, state: RegState,
                delivery: DeliveryContext) -> tuple[str, dict]:
        """(operation, payload) of the outbox message to the kind's target."""

    def cancelled(self, session, store, registration, previous: str) -> bool:
        """A registration cancelled (before its row is updated): give back what it held.
        True when a place was given back."""


class BaseKindService:
    """Defaults: nothing to lock, nothing booked (``to_deliver``), nothing to give back."""

    def context_data(self, connection, household_id, person_ids, today) -> Any:
        return None

    def prepare(self, session, store, requests) -> None:
        return None

    def register(self, session, registration, request) -> Registered:
        from counter.domain.reg_states import RegState

        return Registered(RegState.TO_DELIVER)

    def payload(self, request, registration_id, state, delivery) -> tuple[str, dict]:
        raise NotImplementedError

    def cancelled(self, session, store, registration, previous: str) -> bool:
        return False


# -- the registry ------------------------------------------------------------------------------


@cache
def all_kinds() -> tuple[RegistrationKind, ...]:
    """Every installed kind, in their ``order``."""
    from counter import registry

    found = [registry.load(name, GROUP) for name in registry.kinds(GROUP)]
    for plugin in found:
        if not isinstance(plugin, RegistrationKind):
            raise registry.PluginError(f"{GROUP}: {plugin!r} is not a RegistrationKind")
        if len(plugin.id) > MAX_KIND_ID:
            raise registry.PluginError(f"{GROUP}: kind id {plugin.id!r} longer than {MAX_KIND_ID}")
    return tuple(sorted(found, key=lambda k: (k.order, k.id)))


def kind(kind_id: str) -> RegistrationKind:
    for plugin in all_kinds():
        if plugin.id == kind_id:
            return plugin
    raise UnknownKind(kind_id)


def find(kind_id: str | None) -> RegistrationKind | None:
    """The kind, or None (a row written by a kind no longer installed)."""
    try:
        return kind(kind_id) if kind_id is not None else None
    except UnknownKind:
        return None


def kind_of(request: Request) -> RegistrationKind:
    for plugin in all_kinds():
        if type(request) is plugin.request_type:
            return plugin
    raise UnknownKind(type(request).__name__)


def label(kind_id: str) -> str:
    """The French label of a kind's id; the id itself when no kind has it."""
    plugin = find(kind_id)
    return plugin.label if plugin is not None else kind_id


def refresh() -> None:
    """Forget what was discovered (tests install kinds on the fly)."""
    from counter import registry

    registry.refresh()
    all_kinds.cache_clear()
