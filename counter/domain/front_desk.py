"""The front desk's words (issue 16): why families come, where they are sent, what
they may need at the desk, how a visit ends. A town changes the lists in its
configuration (`[visits]`, `[queue]`); codes are what is stored and counted,
labels what the agents read (French)."""

from __future__ import annotations

from dataclasses import dataclass, field

SITE = "mairie"  # a site's name when the configuration gives none ([service] site)


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

# A ticket's life.
WAITING, CALLED, SERVED, GONE = "waiting", "called", "served", "gone"


@dataclass(frozen=True, slots=True)
class FrontDesk:
    """A site's front desk: its lists and whether it issues tickets."""

    site: str = SITE
    queue: bool = False  # [queue] enabled: the reception issues tickets
    reasons: tuple[Choice, ...] = REASONS
    redirections: tuple[Choice, ...] = REDIRECTIONS
    needs: tuple[Choice, ...] = NEEDS
    outcomes: tuple[Choice, ...] = field(default=OUTCOMES)

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
