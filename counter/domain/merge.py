"""Where the agencies and the town disagree about a household.

The town's record is the reference the agent can correct (next issue); each
disagreement names its source so the agent knows whom to believe and what to
update: an address that differs, a child or an allocataire an agency knows
and the town's household lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from counter.domain.facts import Family, FamilyMember, JobSeeker, PostalAddress, SectionAnswer, Status, Subject
from counter.domain.names import fold
from counter.domain.people import AddressView

# Street-type abbreviations agencies print ("12 AV JEAN JAURES").
_ABBREVIATIONS = {
    "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "r": "rue",
    "pl": "place", "all": "allee", "ch": "chemin", "che": "chemin", "imp": "impasse",
    "rte": "route", "sq": "square", "crs": "cours", "qu": "quai", "fg": "faubourg",
    "st": "saint", "ste": "sainte",
}


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str  # address | missing_child | missing_adult
    source: str  # the section's label, e.g. "Quotient familial (CAF/MSA)"
    message: str  # French, for the agent
    agency_value: str = ""
    town_value: str = ""
    # What the agent can take into the town's record with one confirmation.
    address: PostalAddress | None = None
    member: FamilyMember | None = None


def normalise_street(line: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", fold(line)).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def same_address(agency: PostalAddress, town: AddressView) -> bool:
    if agency.postal_code and town.postal_code and agency.postal_code.strip() != town.postal_code.strip():
        return False
    return normalise_street(agency.street_line) == normalise_street(town.street_line())


def _agency_address_text(address: PostalAddress) -> str:
    return ", ".join(p for p in (address.street_line, f"{address.postal_code} {address.city}".strip()) if p)


def _date(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "date inconnue"


def _first_given(given: str) -> str:
    parts = fold(given).replace("-", " ").replace(",", " ").split()
    return parts[0] if parts else ""


def _town_members(subject: Subject, roles: Iterable[str]):
    wanted = set(roles)
    return [identity for role, identity in subject.members if role in wanted]


def _same_birth(agency: date | None, town) -> bool:
    """An agency's full date against the town's, which may lack the day or month."""
    if agency is None:
        return True
    return (
        town.year == agency.year
        and town.month in (None, agency.month)
        and town.day in (None, agency.day)
    )


def _known(member, town_members) -> bool:
    """An agency's member is in the town's household: same birth date and
    the same first given name or the same birth name."""
    for identity in town_members:
        if not _same_birth(member.birth_date, identity.birth):
            continue
        town_first = _first_given(identity.given_names[0]) if identity.given_names else ""
        if town_first and _first_given(member.given_names) == town_first:
            return True
        if fold(member.birth_name) in (fold(identity.birth_name), fold(identity.usage_name or "")):
            return True
    return False


def conflicts(subject: Subject, answers: Iterable[SectionAnswer]) -> list[Conflict]:
    """Every disagreement between the answers that came back OK and the town."""
    found: list[Conflict] = []
    household = subject.household
    town_address = household.address if household else None
    for answer in answers:
        if answer.provenance.status is not Status.OK:
            continue
        label = answer.provenance.label
        for fact in answer.facts:
            if isinstance(fact, Family):
                if fact.address and town_address and not same_address(fact.address, town_address):
                    found.append(Conflict(
                        "address", label,
                        "Adresse différente de celle de la mairie",
                        _agency_address_text(fact.address), town_address.one_line(), address=fact.address,
                    ))
                found += _missing(fact.children, _town_members(subject, ("child",)), "missing_child", label,
                                  "Enfant connu de la source, absent du foyer de la mairie")
                found += _missing(fact.adults, _town_members(subject, ("parent", "other_guardian")),
                                  "missing_adult", label,
                                  "Allocataire connu de la source, absent du foyer de la mairie")
            elif isinstance(fact, JobSeeker) and fact.address and town_address:
                own = _own_address(subject) or town_address
                if not same_address(fact.address, own):
                    found.append(Conflict(
                        "address", label, "Adresse différente de celle de la mairie",
                        _agency_address_text(fact.address), own.one_line(), address=fact.address,
                    ))
    return _unique(found)


def _missing(agency_members, town_members, kind: str, label: str, message: str) -> list[Conflict]:
    return [
        Conflict(kind, label, message, f"{m.given_names} {m.birth_name}, né(e) le {_date(m.birth_date)}", member=m)
        for m in agency_members
        if not _known(m, town_members)
    ]


def _own_address(subject: Subject) -> AddressView | None:
    if subject.household is None:
        return None
    for member in subject.household.members:
        if member.person.id == subject.person_id:
            return member.own_address
    return None


def _unique(found: list[Conflict]) -> list[Conflict]:
    """The same disagreement reported by two sections of one agency shows once, with both names."""
    merged: dict[tuple, Conflict] = {}
    for conflict in found:
        key = (conflict.kind, conflict.agency_value, conflict.town_value)
        if key in merged:
            previous = merged[key]
            if conflict.source not in previous.source:
                merged[key] = replace(previous, source=f"{previous.source}, {conflict.source}")
        else:
            merged[key] = conflict
    return list(merged.values())
