"""What the agencies confirm for a visit: asked by the service once per visit.

The household's adults are looked up in the dossier's sections that spare the
family papers or price the registrations (quotient familial, crèche-tariff
inputs, C2S, job seekers). Each adult's consultation is audited with the
« visite » purpose, for the agent at the counter.
"""

from __future__ import annotations

import asyncio
import logging

from counter.domain.purposes import VISIT_PURPOSE
from counter.domain.visit_context import VisitContext
from counter.domain.visit_summary import VisitFacts

log = logging.getLogger("counter.visits")

WANTED = frozenset({"quotient_familial", "eaje", "c2s", "france_travail"})
# Asked for every adult; the household's own sections (QF, EAJE) only for the first.
PER_ADULT = ("c2s", "france_travail")
ADULT_ROLES = ("parent", "other_guardian", "person")


async def gather_facts(dossier, context: VisitContext, actor) -> VisitFacts:
    """The agencies' answers for the visit; never raises (the visit goes on without them)."""
    try:
        facts = await _ask(dossier, context, actor)
    except Exception:  # noqa: BLE001 — the visit goes on without the agencies
        log.exception("asking the agencies for a visit failed")
        facts = VisitFacts(qf_missing="organismes injoignables")
    facts.pending = False
    return facts


async def _ask(dossier, context: VisitContext, actor) -> VisitFacts:
    from counter.backend import EajeInputs, Family, HealthCover, JobSeeker, QuotientFamilial, Status
    from counter.domain.merge import same_address

    refs = [r for r in dossier.sections() if r.section in WANTED]
    adults = [m for m in context.members if m.role in ADULT_ROLES]
    facts = VisitFacts(pending=True)
    if not any(r.section == "quotient_familial" for r in refs):
        facts.qf_missing = "aucun organisme ne le donne"
    if not refs or not adults:
        return facts
    qf_status = None
    for index, adult in enumerate(adults):
        subject = await asyncio.to_thread(dossier.subject, adult.person_id)
        if subject is None:
            continue
        only = refs if index == 0 else [r for r in refs if r.section in PER_ADULT]
        async for answer in dossier.consult(subject, only, purpose=VISIT_PURPOSE, actor=actor):
            if answer.provenance.section == "quotient_familial" and qf_status is not Status.OK:
                qf_status = answer.provenance.status
            if answer.provenance.status is not Status.OK:
                continue
            for fact in answer.facts:
                if isinstance(fact, QuotientFamilial) and facts.qf_value is None:
                    facts.qf_value, facts.qf_provider = fact.value, fact.provider
                elif isinstance(fact, EajeInputs) and facts.eaje is None and fact.annual_resources is not None:
                    facts.eaje = (fact.children_in_charge, fact.aeeh_children, fact.annual_resources)
                elif isinstance(fact, Family) and fact.address and context.address:
                    if same_address(fact.address, context.address):
                        facts.address_confirmed_by = "CAF"
                elif isinstance(fact, JobSeeker) and fact.registered:
                    facts.job_seekers.add(adult.person_id)
                elif isinstance(fact, HealthCover) and fact.beneficiary:
                    facts.c2s.add(adult.person_id)
    if facts.qf_value is None and qf_status is not None:
        facts.qf_missing = ("famille inconnue de la CAF" if qf_status is Status.NOT_FOUND
                            else "la CAF n'a pas répondu")
    return facts
