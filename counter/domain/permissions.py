"""Who may do what at the counter: the roles and their actions.

The rule lives here once; services enforce it (counter.services.audit.require),
screens only hide what the services would refuse.
"""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    SEARCH = "search"
    CONSULT = "consult"
    REGISTER = "register"
    OUTBOX = "outbox"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    CANCEL = "cancel"
    AGENTS = "agents"
    EXPORT = "export"  # registrations for the town's services
    TRAIN = "train"
    DUPLICATES = "duplicates"  # review likely duplicates: list, merge, dismiss
    STATISTICS = "statistics"  # one's own figures (counter.services.statistics)
    STATISTICS_ALL = "statistics.all"  # everyone's figures, the site's agencies and outbox


_AGENT = frozenset({Action.SEARCH, Action.CONSULT, Action.REGISTER, Action.STATISTICS})
_SUPERVISOR = _AGENT | {Action.OUTBOX, Action.AUDIT_VIEW, Action.AUDIT_EXPORT, Action.CANCEL,
                        Action.AGENTS, Action.EXPORT, Action.DUPLICATES, Action.STATISTICS_ALL}
# A trainer runs training sessions: everything, but only on the training database.
_TRAINER = _SUPERVISOR | {Action.TRAIN}

ROLES: dict[str, frozenset[Action]] = {"agent": _AGENT, "supervisor": _SUPERVISOR, "trainer": _TRAINER}

# French, for the message an agent sees.
LABELS = {
    Action.SEARCH: "rechercher", Action.CONSULT: "consulter un dossier", Action.REGISTER: "inscrire",
    Action.OUTBOX: "gérer les envois", Action.AUDIT_VIEW: "consulter le journal d'audit",
    Action.AUDIT_EXPORT: "exporter le journal d'audit", Action.CANCEL: "annuler une inscription",
    Action.AGENTS: "gérer les agents", Action.EXPORT: "exporter les inscriptions",
    Action.TRAIN: "animer une formation", Action.DUPLICATES: "traiter les doublons",
    Action.STATISTICS: "consulter les statistiques",
    Action.STATISTICS_ALL: "consulter les statistiques de tous les agents",
}


def allowed(role: str, action: str, *, training: bool = False) -> bool:
    """Whether ``role`` may do ``action``; a trainer may do nothing outside training."""
    if role == "trainer" and not training:
        return False
    try:
        return Action(action) in ROLES.get(role, frozenset())
    except ValueError:  # an action nobody may do
        return False
