"""Why an agent consults a family's agency data: the short list the audit records.

The dossier service refuses any other purpose, so an audit entry always names
one of these, whatever screen or script asked.
"""

from __future__ import annotations

PURPOSES = (
    "Instruction d'une demande",
    "Information de la famille",
    "Vérification de droits",
    "Mise à jour du dossier",
)
VISIT_PURPOSE = "visite"  # a visit's own fact gathering (the registrations' prices and papers)
# The town's own consultation, before the roaming bus leaves, of the households that have an
# appointment on its tour (`counter tour prepare --appointments`): no agent's purpose, so
# never one a terminal may give (is_known refuses it).
TOUR_PURPOSE = "rendez-vous de tournée"


def is_known(purpose: str) -> bool:
    return purpose in PURPOSES or purpose == VISIT_PURPOSE
