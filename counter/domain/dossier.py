"""A dossier as a terminal receives it: the person, then each section's answer
with the disagreements found so far. Light: shown by the screens, sent by the service."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.facts import SectionAnswer, SectionRef, Subject
from counter.domain.merge import Conflict

__all__ = ["Conflict", "DossierUpdate", "SectionRef"]


@dataclass(frozen=True, slots=True)
class DossierUpdate:
    """One step of a consultation.

    The first carries the subject (the person and the town's household, as the
    town records them now); each next one a section's answer, in the order the
    sources answer. ``conflicts`` are the disagreements between the town and
    every answer of the opening so far, so the screen only shows them.
    """

    opening: str  # names this consultation: a refresh of some sections sends it back
    subject: Subject | None = None
    answer: SectionAnswer | None = None
    conflicts: tuple[Conflict, ...] = ()
