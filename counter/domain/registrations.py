"""Confirmed registrations and outbox messages as the supervisors' screens show them.

Light on purpose: these views cross the service's socket and the terminal
draws them; counter.services.registrations builds them from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from counter.domain import kinds
from counter.domain.dates import as_utc
from counter.domain.visits import RegState

SUPERVISORS = ("supervisor",)
CANCELLED = "cancelled"  # an outbox message (and a registration's delivery) that will never be sent

DELIVERY_LABELS = {
    "pending": "en attente",
    "delivered": "transmise",
    "refused": "refusée",
    CANCELLED: "annulé",
}
OUTBOX_LABELS = {
    "pending": "en attente",
    "delivered": "transmis",
    "refused": "refusé",
    CANCELLED: "annulé",
}
OPERATION_LABELS = {"city.registration": "inscription", "city.cancellation": "annulation", "koha.patron": "lecteur"}


def may_supervise(role: str, training: bool) -> bool:
    """Supervisors cancel and relaunch; in training, trainers play that part."""
    return role in SUPERVISORS or (training and role == "trainer")


@dataclass(frozen=True, slots=True)
class RegistrationView:
    id: int
    visit_code: str | None
    created_at: datetime  # UTC
    kind: str
    kind_label: str
    state: str
    state_label: str
    person_label: str
    place: str  # the school or the first-choice crèche, "" for a library card
    level: str | None
    school_year: int | None
    rank: int | None  # the provisional rank the counter gave
    delivery: str
    delivery_label: str
    town_rank: int | None = None  # the town's, once it received the application
    visit_id: int | None = None
    cancelled_at: datetime | None = None  # UTC
    cancelled_by: str | None = None
    cancel_reason: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.state == RegState.CANCELLED

    @property
    def rank_label(self) -> str:
        """The town's rank once it gave one, else the counter's, said to be provisional."""
        if self.town_rank is not None:
            return f"rang {self.town_rank} (mairie)"
        return f"rang provisoire {self.rank}" if self.rank is not None else ""

    @property
    def date_label(self) -> str:
        return local_date(self.created_at)

    @property
    def school_year_label(self) -> str:
        return f"{self.school_year}-{self.school_year + 1}" if self.school_year else ""

    def heading(self) -> str:
        return (f"{self.kind_label} — {self.person_label} · inscription n° {self.id} · "
                f"visite {self.visit_code or '—'} du {self.date_label}")

    def cancel_line(self) -> str:
        return (f"Annulée le {local_date(self.cancelled_at)} par {self.cancelled_by or '—'} : "
                f"{self.cancel_reason or '—'}")

    def cancel_consequence(self) -> str:
        """What cancelling does beyond this database, said before the supervisor confirms."""
        if self.delivery != "delivered":
            return "Pas encore transmise : elle ne le sera pas."
        plugin = kinds.find(self.kind)
        return (plugin or kinds.RegistrationKind).delivered_cancel_consequence

    def lines(self) -> list[str]:
        """What the list knows, in French (the detail adds the request and the delivery)."""
        lines = [self.heading()]
        plugin = kinds.find(self.kind)
        if plugin is not None:
            lines += plugin.view_lines(self)
        lines.append(f"État : {self.state_label} · envoi : {self.delivery_label}")
        if self.cancelled:
            lines.append(self.cancel_line())
        return lines


@dataclass(frozen=True, slots=True)
class RegistrationDetail:
    view: RegistrationView
    details: dict  # the request as typed (counter.domain.visits), decoded
    price: dict
    choices: tuple[str, ...]  # crèches in order of preference
    external_ref: str | None
    outbox_id: int | None
    outbox_target: str | None
    outbox_state: str | None
    outbox_attempts: int
    outbox_last_error: str | None
    outbox_operation: str | None = None

    def lines(self) -> list[str]:
        """The detail in French, one fact a line (external text: show as plain text)."""
        v = self.view
        lines = [v.heading()]
        plugin = kinds.find(v.kind)
        if plugin is not None:
            lines += plugin.detail_lines(self)
        lines.append(f"État : {v.state_label}")
        lines.append(self.delivery_line())
        if v.cancelled:
            lines.append(v.cancel_line())
        return lines

    def delivery_line(self) -> str:
        if self.outbox_state is None:
            return "Envoi : aucun message"
        where = f" à « {self.outbox_target} »" if self.outbox_target else ""
        what = " de l'annulation" if self.outbox_operation == "city.cancellation" else ""
        line = f"Envoi{what}{where} : {OUTBOX_LABELS.get(self.outbox_state, self.outbox_state)}"
        if self.outbox_attempts:
            line += f" ({self.outbox_attempts} essai{'s' if self.outbox_attempts > 1 else ''})"
        if self.external_ref:
            line += f" · réf. {self.external_ref}"
        if self.outbox_last_error and self.outbox_state != "delivered":
            line += f" — {self.outbox_last_error}"
        return line


@dataclass(frozen=True, slots=True)
class CancelResult:
    registration_id: int
    previous_state: str
    place_freed: bool
    outbox: str  # cancelled | delivered | none
    message: str  # French, for the status line
    cancellation_message: int | None = None  # the outbox message telling the target, when one is sent


def message_lines(message) -> list[str]:
    """One outbox message (counter.domain.outbox.OutboxView) in French, for the supervisors' screen."""
    kind = kinds.label(message.kind)
    lines = [f"Message n° {message.id} · inscription n° {message.registration_id} ({kind}, visite "
             f"{message.visit_code or '—'}) · à « {message.target} » · "
             f"{OPERATION_LABELS.get(message.operation, message.operation)}"]
    state = f"État : {OUTBOX_LABELS.get(message.state, message.state)} · {message.attempts} essai" \
            + ("s" if message.attempts > 1 else "")
    if message.state == "pending":
        state += f" · prochain essai le {local_datetime(message.next_attempt_at)}"
    elif message.state == "delivered":
        state += f" · transmis le {local_datetime(message.delivered_at)}"
        if message.external_ref:
            state += f" (réf. {message.external_ref})"
    lines.append(state)
    if message.last_error and message.state != "delivered":
        lines.append(f"Dernière erreur : {message.last_error}")
    return lines


def local_date(moment: datetime | None) -> str:
    """jj/mm/aaaa on this machine's clock."""
    moment = as_utc(moment)
    return moment.astimezone().strftime("%d/%m/%Y") if moment else ""


def local_datetime(moment: datetime | None) -> str:
    moment = as_utc(moment)
    return moment.astimezone().strftime("%d/%m/%Y %H:%M") if moment else ""


def short_datetime(moment: datetime | None) -> str:
    """jj/mm hh:mm on this machine's clock: a column at 80 columns (the panel gives the year)."""
    moment = as_utc(moment)
    return moment.astimezone().strftime("%d/%m %H:%M") if moment else ""


def enum_label(enum_type, labels: dict, value: str) -> str:
    """The French label of an enum's value; the value itself when it is not one."""
    try:
        return labels[enum_type(value)]
    except (ValueError, KeyError):
        return value
