"""The front desk's words (issue 16): why families come, where they are sent, what
they may need at the desk, how a visit ends. A town changes the lists in its
configuration (`[visits]`, `[queue]`); codes are what is stored and counted,
labels what the agents read (French)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

SITE = "mairie"  # a site's name when the configuration gives none ([service] site)
PUBLIC_DESK = "Guichet"  # the room's display, for an agent the site's [queue] desks do not name


@dataclass(frozen=True, slots=True)
class Choice:
    code: str  # stored: [a-z0-9_-], 20 characters at most
    label: str  # shown (French)


REASONS = (
    Choice("inscriptions", "Inscriptions"),
    Choice("qf", "Quotient familial"),
    Choice("caf", "CAF"),
    Choice("cpam", "CPAM / C2S"),
    Choice("france_travail", "France Travail"),
    Choice("identite", "Papiers d'identité"),
    Choice("autre", "Autre"),
)
REDIRECTIONS = (
    Choice("caf", "CAF"),
    Choice("cpam", "CPAM"),
    Choice("france_travail", "France Travail"),
    Choice("ccas", "CCAS"),
    Choice("ants", "Préfecture / ANTS"),
    Choice("france_services", "France Services"),
    Choice("autre", "Autre service"),
)
NEEDS = (
    Choice("interprete", "Interprète"),
    Choice("lsf", "Langue des signes"),
    Choice("fauteuil", "Fauteuil roulant"),
    Choice("malvoyant", "Malvoyant"),
    Choice("malentendant", "Malentendant"),
)

# How a visit ends (fixed: the statistics compare them across towns).
DONE, REDIRECTED, COME_BACK = "done", "redirected", "come_back"
OUTCOMES = (
    Choice(DONE, "Réglé"),
    Choice(REDIRECTED, "Orienté vers un autre service"),
    Choice(COME_BACK, "À revenir avec des papiers"),
)

# A ticket's life. « expired »: still waiting or called when its day ended (closed at the
# first queue read of a later day, counter.services.front_desk).
WAITING, CALLED, SERVED, GONE, EXPIRED = "waiting", "called", "served", "gone", "expired"
OPEN = (WAITING, CALLED)


@dataclass(frozen=True, slots=True)
class FrontDesk:
    """A site's front desk: its lists and whether it issues tickets."""

    site: str = SITE
    queue: bool = False  # [queue] enabled: the reception issues tickets
    reasons: tuple[Choice, ...] = REASONS
    redirections: tuple[Choice, ...] = REDIRECTIONS
    needs: tuple[Choice, ...] = NEEDS
    outcomes: tuple[Choice, ...] = field(default=OUTCOMES)
    # [queue] desks: an agent's login -> what the waiting room's display says (« Guichet 2 »).
    desks: tuple[tuple[str, str], ...] = ()

    def desk_of(self, login: str | None) -> str:
        """Where ``login`` receives, for the agents' waiting list: its desk, else its login."""
        return dict(self.desks).get(login or "", login or "")

    def public_desk(self, login: str | None) -> str:
        """Where ``login`` receives, for the public (the room's display): its desk when the
        site names it, else « Guichet » — never an agent's login."""
        return dict(self.desks).get(login or "") or PUBLIC_DESK

    def label(self, kind: str, code: str) -> str:
        """The label of ``code`` in the list ``kind`` (reasons, redirections, needs,
        outcomes); a code the configuration no longer has is shown as it is."""
        for choice in getattr(self, kind):
            if choice.code == code:
                return choice.label
        return code


def codes(text: str) -> tuple[str, ...]:
    """Reason codes stored comma-separated, in order, without blanks."""
    return tuple(c for c in (part.strip() for part in text.split(",")) if c)


# -- what crosses the socket: tickets, the waiting list, the room's display -------------------

TICKET_STATE_LABELS = {WAITING: "en attente", CALLED: "appelé", SERVED: "servi", GONE: "parti", EXPIRED: "non servi"}
MAX_REASONS = 9  # chosen with the digits 1 to 9 at the reception


class FrontDeskError(ValueError):
    """A front-desk request that cannot be done: the French message says why."""

    def __init__(self, message: str, english: str = "") -> None:
        super().__init__(message)
        self._english = english or message

    def english(self) -> str:
        return self._english


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the agents see it: never a name (there is none to show)."""

    id: int
    number: int
    reasons: tuple[str, ...]  # reason codes
    need: str | None
    appointment: bool
    state: str
    issued_at: datetime  # UTC
    waiting_minutes: int  # from its issue to its call (or to now while it waits)
    called_by: str | None = None
    desk: str = ""  # where it was called, for the agents: [queue] desks, else the agent's login
    visit_id: int | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    ticket: TicketView
    printed: bool
    message: str  # French: printed, or where the ticket's text was written and why not printed


@dataclass(frozen=True, slots=True)
class Called:
    ticket: TicketView
    visit_id: int  # the visit opened on the ticket (the family is found, then F4 fills it in)


@dataclass(frozen=True, slots=True)
class QueueView:
    site: str
    day: date
    tickets: tuple[TicketView, ...]  # waiting and called today, in number order
    mine: TicketView | None = None  # the agent's ticket being served (called, its visit not ended)


@dataclass(frozen=True, slots=True)
class VisitEnd:
    """How a visit ended, as the agent entered it (codes of the site's lists)."""

    reasons: tuple[str, ...]
    outcome: str
    detail: str | None = None  # a redirection's code when the outcome is « redirected »


def check_end(desk: FrontDesk, end: VisitEnd) -> str | None:
    """The French reason ``end`` cannot be recorded, or None."""
    known = {c.code for c in desk.reasons}
    if not end.reasons:
        return "Choisissez au moins un motif de la visite."
    if len(set(end.reasons)) != len(end.reasons) or any(r not in known for r in end.reasons):
        return "Motif inconnu de la liste du site."
    if end.outcome not in {c.code for c in desk.outcomes}:
        return "Issue de la visite inconnue."
    if end.outcome == REDIRECTED:
        if end.detail not in {c.code for c in desk.redirections}:
            return "Choisissez le service vers lequel la famille est orientée."
    elif end.detail is not None:
        return "Seule une orientation précise un service."
    return None


def check_ticket(desk: FrontDesk, reasons: tuple[str, ...], need: str | None) -> str | None:
    """The French reason a ticket cannot be issued with these, or None."""
    known = {c.code for c in desk.reasons}
    if not reasons:
        return "Choisissez au moins un motif (chiffres 1 à 9)."
    if len(set(reasons)) != len(reasons) or any(r not in known for r in reasons):
        return "Motif inconnu de la liste du site."
    if need is not None and need not in {c.code for c in desk.needs}:
        return "Besoin inconnu de la liste du site."
    return None


def reasons_label(desk: FrontDesk, reasons: tuple[str, ...]) -> str:
    return ", ".join(desk.label("reasons", code) for code in reasons)


def ticket_lines(town: str, desk: FrontDesk, ticket: TicketView, training: bool = False) -> list[str]:
    """The printed ticket: the number large enough to read, the day, why (no name)."""
    local = ticket.issued_at.astimezone()
    lines = [town or "Mairie", "Accueil des familles", "", "TICKET", ""]
    lines += big_number(ticket.number)
    lines += ["", f"N° {ticket.number} — {local:%d/%m/%Y %H:%M}", f"Motif : {reasons_label(desk, ticket.reasons)}"]
    if ticket.need:
        lines.append(f"Besoin : {desk.label('needs', ticket.need)}")
    if ticket.appointment:
        lines.append("Sur rendez-vous")
    lines += ["", "Votre numéro s'affichera à l'écran de la salle d'attente."]
    if training:
        lines.append("FORMATION — ticket sans valeur")
    return lines


# -- large digits for the waiting room's display and the ticket -------------------------------

_DIGITS = {
    "0": ("█████", "█   █", "█   █", "█   █", "█████"),
    "1": ("  █  ", " ██  ", "  █  ", "  █  ", " ███ "),
    "2": ("█████", "    █", "█████", "█    ", "█████"),
    "3": ("█████", "    █", " ████", "    █", "█████"),
    "4": ("█   █", "█   █", "█████", "    █", "    █"),
    "5": ("█████", "█    ", "█████", "    █", "█████"),
    "6": ("█████", "█    ", "█████", "█   █", "█████"),
    "7": ("█████", "    █", "   █ ", "  █  ", "  █  "),
    "8": ("█████", "█   █", "█████", "█   █", "█████"),
    "9": ("█████", "█   █", "█████", "    █", "█████"),
}
BIG_HEIGHT = 5


def big_number(number: int) -> list[str]:
    """``number`` in digits five lines high (block characters), one column between digits."""
    digits = str(int(number))
    return [" ".join(_DIGITS[d][row] for d in digits) for row in range(BIG_HEIGHT)]


@dataclass(frozen=True, slots=True)
class DisplayView:
    """What the waiting room's screen shows: the tickets called, the newest first, and
    how many wait. Numbers and desks only — never a name."""

    site: str
    calls: tuple[tuple[int, str], ...]  # (number, public desk: FrontDesk.public_desk), newest first
    waiting: int


def display_lines(view: DisplayView, width: int = 80, height: int = 24) -> list[str]:
    """The waiting room's screen as plain text, ``width`` × ``height`` at most."""
    lines = ["APPEL EN COURS".center(width).rstrip(), ""]
    if not view.calls:
        lines += ["", "Aucun ticket appelé pour le moment.".center(width).rstrip()]
    else:
        number, desk = view.calls[0]
        lines += [row.center(width).rstrip() for row in big_number(number)]
        lines += ["", f"Ticket {number} → {desk}".center(width).rstrip(), ""]
        if len(view.calls) > 1:
            lines.append("Appelés juste avant :")
            room = max(0, height - len(lines) - 3)
            lines += [f"  Ticket {n:>4} → {d}" for n, d in view.calls[1:1 + room]]
    while len(lines) < height - 1:
        lines.append("")
    waiting = {0: "Personne n'attend.", 1: "1 personne attend."}.get(view.waiting, f"{view.waiting} personnes attendent.")
    lines = lines[:height - 1] + [waiting]
    return [line[:width] for line in lines]
