"""The papers a registration needs, minus those an agency already confirms
("dites-le-nous une fois"): those are listed as confirmed, not asked for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    label: str  # French, as the town hall's list of papers writes it
    confirmed_by: str | None = None  # the agency that already confirms it (CAF…)

    @property
    def to_provide(self) -> bool:
        return self.confirmed_by is None

    @property
    def text(self) -> str:
        if self.confirmed_by is None:
            return f"{self.label} : à fournir"
        return f"{self.label} : déjà confirmé par {_with_article(self.confirmed_by)}"


def _with_article(agency: str) -> str:
    # Agencies are named with their article: la CAF, la MSA, France Travail.
    return agency if agency.startswith("France") else f"la {agency}"


FAMILY_RECORD = "Livret de famille ou acte de naissance de l'enfant"
PREGNANCY = "Déclaration de grossesse (naissance attendue)"
ADDRESS = "Justificatif de domicile de moins de 3 mois"
CUSTODY = "Jugement fixant la résidence de l'enfant (parents séparés)"
VACCINATIONS = "Carnet de santé (pages des vaccinations) ou certificat de vaccination"
RESOURCES = "Justificatif de ressources (dernier avis d'imposition)"
DISABILITY = "Notification de la MDPH ou attestation d'AEEH (enfant en situation de handicap)"
IDENTITY = "Pièce d'identité"
PARENTAL_CONSENT = "Autorisation parentale signée par un représentant légal"


def papers_for(kind: str, *, separated_parents: bool, address_confirmed_by: str | None,
               resources_confirmed_by: str | None, minor: bool, new_family: bool, disability: bool = False,
               disability_confirmed_by: str | None = None) -> tuple[Paper, ...]:
    """Papers for one registration of a built-in kind, in the order they are usually
    checked: each kind's ``papers_needed`` (registrations/*/kind.py) from these facts.

    ``separated_parents``: as the agent stated it (or the household's data);
    ``address_confirmed_by``: the agency whose address matches the town's;
    ``resources_confirmed_by``: the agency the crèche-tariff inputs came from;
    ``new_family``: the child is not born yet (a crèche application before
    birth), so a pregnancy declaration stands for the livret de famille;
    ``minor``: the library reader is under 18; ``disability``: a crèche
    application for a child with a disability (kept until 6), which the CAF
    confirms when it pays an AEEH (``disability_confirmed_by``).
    """
    from counter.domain.kinds import UnknownKind
    from counter.domain.kinds import kind as find

    try:
        plugin = find(str(kind))
    except UnknownKind:
        raise ValueError(f"unknown kind {kind!r}") from None
    needed = getattr(plugin, "papers_needed", None)
    if needed is None:
        raise ValueError(f"kind {kind!r} words its papers from the visit only")
    return needed(separated_parents=separated_parents, address_confirmed_by=address_confirmed_by,
                  resources_confirmed_by=resources_confirmed_by, minor=minor, new_family=new_family,
                  disability=disability, disability_confirmed_by=disability_confirmed_by)
