"""The dossier: its sections, and a consultation streamed section by section."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain import facts
from counter.domain.dossier import DossierUpdate
from counter.domain.facts import SectionRef
from counter.wire import codec
from counter.wire.endpoints import NoArgs, endpoint


def _fact_types() -> dict[str, type]:
    """Every fact of counter.domain.facts, by its ``kind`` (a section's facts cross as ``"$type": kind``)."""
    found, todo = {}, list(facts.Fact.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        # (dataclass(slots=True) leaves the class it replaced among the subclasses.)
        if getattr(facts, cls.__name__, None) is cls:
            found[cls.kind] = cls
    return found


codec.polymorphic(facts.Fact, _fact_types())

DOSSIER_SECTIONS = endpoint("dossier.sections", NoArgs, tuple[SectionRef, ...])


@dataclass(frozen=True, slots=True)
class ConsultArgs:
    person_id: int
    # One of counter.domain.purposes; the consultation is audited with it.
    purpose: str
    # (source, section) pairs; None: every section of every source.
    sections: tuple[tuple[str, str], ...] | None = None
    refresh: bool = False  # past every cache, to the agencies
    # The opening a refresh belongs to (the first update's): not audited again
    # when the same agent asks again sections of the same person already audited.
    opening: str | None = None


DOSSIER_CONSULT = endpoint("dossier.consult", ConsultArgs, DossierUpdate, stream=True)


@dataclass(frozen=True, slots=True)
class OpeningArgs:
    opening: str


# After a correction of the town's record: the subject as it now is, and the
# disagreements left with the answers already received (None: opening forgotten).
DOSSIER_COMPARE = endpoint("dossier.compare", OpeningArgs, DossierUpdate | None)
