"""Where a registration stands: shared by the visit rules and every kind of registration
(counter.domain.kinds), which the visit rules look up."""

from __future__ import annotations

import enum


class RegState(enum.StrEnum):
    REGISTERED = "registered"
    WAITING_LIST = "waiting_list"
    DEROGATION_REQUESTED = "derogation_requested"
    TO_DELIVER = "to_deliver"
    CANCELLED = "cancelled"


STATE_LABELS = {
    RegState.REGISTERED: "inscrit(e)",
    RegState.WAITING_LIST: "sur liste d'attente",
    RegState.DEROGATION_REQUESTED: "dérogation demandée",
    RegState.TO_DELIVER: "à transmettre",
    RegState.CANCELLED: "annulé(e)",
}
