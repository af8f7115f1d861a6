"""Facts and statuses in the words an agent reads (French, dates jj/mm/aaaa)."""

from __future__ import annotations

import math
from datetime import date

from counter.domain.facts import (
    OFFLINE_LABEL,
    STATUS_LABELS,
    CrecheSituation,
    EajeInputs,
    Fact,
    Family,
    HealthCover,
    JobSeeker,
    LibraryCard,
    PostalAddress,
    Provenance,
    QuotientFamilial,
    Schooling,
    Status,
    Subject,
)

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
_CRECHE_STATES = {"placed": "accueilli(e)", "waiting": "sur liste d'attente", "none": "aucune demande"}


def delay(seconds: float) -> str:
    """A wait in words, rounded up (waiting less than told is asking too soon):
    "41 s", from 120 s on in minutes. The one rounding of every "réessayer dans"."""
    whole = max(1, math.ceil(seconds))
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"


def d(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "?"


def euros(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f") + " €"


def address(value: PostalAddress) -> str:
    return ", ".join(p for p in (value.street_line, f"{value.postal_code} {value.city}".strip()) if p)


def describe(fact: Fact, today: date) -> list[str]:
    """One or a few lines for a fact."""
    match fact:
        case QuotientFamilial():
            month = f"{MONTHS[fact.month - 1]} {fact.year}" if fact.month and fact.year else "mois inconnu"
            return [f"Quotient familial : {fact.value} ({fact.provider}, {month})"]
        case Family():
            lines = [f"Foyer selon la source : {len(fact.adults)} allocataire(s), {len(fact.children)} enfant(s)"]
            for child in fact.children:
                lines.append(f"  enfant : {child.given_names} {child.birth_name}, né(e) le {d(child.birth_date)}")
            if fact.address:
                lines.append(f"Adresse connue : {address(fact.address)}")
            return lines
        case HealthCover():
            if not fact.beneficiary:
                return ["Non bénéficiaire de la complémentaire santé solidaire"]
            participation = {True: "avec participation", False: "sans participation", None: ""}[fact.with_participation]
            return [f"Bénéficiaire de la C2S {participation} depuis le {d(fact.since)}".replace("  ", " ")]
        case JobSeeker():
            if fact.registered:
                line = f"Inscrit(e) comme demandeur d'emploi depuis le {d(fact.since)}"
            elif fact.until:
                line = f"N'est plus inscrit(e) depuis le {d(fact.until)}"
            else:
                line = "Non inscrit(e) comme demandeur d'emploi"
            return [line] + ([f"Catégorie : {fact.category}"] if fact.category and fact.registered else [])
        case EajeInputs():
            resources = (
                f"ressources annuelles {fact.resources_year} : {euros(fact.annual_resources)}"
                if fact.annual_resources is not None else "ressources inconnues"
            )
            return [f"Enfants à charge : {fact.children_in_charge} · dont AEEH : {fact.aeeh_children}",
                    resources[0].upper() + resources[1:]]
        case Schooling():
            where = " ".join(p for p in (fact.school_name, f"({fact.uai})" if fact.uai else "") if p)
            if not fact.enrolled and not where:
                return [f"Non scolarisé(e) {fact.school_year or ''}".strip()]
            # Not enrolled but a school named: a registration not yet confirmed (the town's system).
            start = "Scolarisé(e)" if fact.enrolled else "Demande d'inscription"
            line = f"{start} {fact.school_year or ''} : {where or 'établissement inconnu'}".replace("  ", " ")
            extra = [p for p in (fact.level, fact.status) if p]
            if fact.scholarship:
                extra.append(f"boursier, échelon {fact.scholarship_level}" if fact.scholarship_level else "boursier")
            return [line] + ([" · ".join(extra)] if extra else [])
        case LibraryCard():
            valid = (
                f"valable jusqu'au {d(fact.expiry)}" if fact.expiry and fact.expiry >= today
                else f"expirée depuis le {d(fact.expiry)}" if fact.expiry else "sans date d'expiration"
            )
            loans = f"{fact.checkouts} prêt(s)" + (f" dont {fact.overdues} en retard" if fact.overdues else "")
            blocked = " · compte bloqué" if fact.restricted else ""
            return [f"Carte {fact.card_number} ({fact.category}) — {valid}", f"{loans}{blocked}"]
        case CrecheSituation():
            state = _CRECHE_STATES.get(fact.state, fact.state)
            parts = [f"Crèche : {state}"]
            if fact.creche:
                parts.append(fact.creche)
            if fact.since:
                parts.append(f"depuis le {d(fact.since)}")
            if fact.rank:
                parts.append(f"rang {fact.rank}")
            return [" · ".join(parts)]
        case PostalAddress():
            return [f"Adresse : {address(fact)}"]
    return []


STATUS_MARKS = {Status.OK: "✓", Status.NOT_APPLICABLE: "–", Status.NOT_FOUND: "?"}


def cached_at(fetched_at) -> str:
    """« en cache, au 12/03 à 14:05 »: when the agency gave the answer a cache holds
    (the terminal's local time)."""
    local = fetched_at.astimezone() if fetched_at.tzinfo else fetched_at
    return f"en cache, au {local:%d/%m à %H:%M}"


def status_line(provenance: Provenance, source_label: str | None = None) -> str:
    """``✓ API Particulier · a répondu · au 01/08/2026 · 230 ms`` (+ en cache, retry).

    The mark says it in monochrome too: ✓ answered, ✗ failed, ? unknown, – not applicable.
    """
    mark = STATUS_MARKS.get(provenance.status, "✗")
    label = OFFLINE_LABEL if provenance.offline else STATUS_LABELS[provenance.status]
    parts = [f"{mark} {source_label or provenance.source}", label]
    if provenance.as_of:
        parts.append(f"au {d(provenance.as_of)}")
    parts.append(f"{provenance.elapsed_ms:.0f} ms")
    if provenance.cached:
        parts.append(cached_at(provenance.fetched_at))
    if provenance.retry_in is not None and provenance.status is Status.RATE_LIMITED:
        parts.append(f"réessayer dans {delay(provenance.retry_in)}")
    return " · ".join(parts)


def town_record(subject: Subject) -> list[str]:
    """The town's own record of the subject's household, for a dossier that has
    no agency to ask (none configured): the address and who lives there."""
    household = subject.household
    if household is None:
        return ["Rattaché(e) à aucun foyer."]
    lines = [f"Adresse du foyer : {household.address.one_line() if household.address else 'inconnue'}"]
    lines.append(f"Membres du foyer {household.label} :")
    for member in household.members:
        person = member.person
        born = "née" if person.sex == "F" else "né"
        lines.append(f"• {member.role_label} : {person.first_names} {person.display_name}, "
                     f"{born} le {person.birth.display()}")
    return lines
