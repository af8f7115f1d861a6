"""A section's answer crosses the socket exactly: every fact type, its provenance."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from counter import backend
from counter.backend import (
    CrecheSituation,
    EajeInputs,
    Family,
    FamilyMember,
    HealthCover,
    JobSeeker,
    LibraryCard,
    PostalAddress,
    Provenance,
    QuotientFamilial,
    Schooling,
    SectionAnswer,
    Status,
)
from counter.domain.dossier import DossierUpdate
from counter.domain.merge import Conflict
from counter.wire import api, codec

ADDRESS = PostalAddress("12 AV JEAN JAURES", "13400", "AUBAGNE", complement="Bât. B", country="FRANCE")
CHILD = FamilyMember("GIRAUD", "Léa", date(2018, 11, 25), "F", usage_name=None)
# One of each fact a source can give, every field set away from its default.
FACTS = [
    ADDRESS,
    Family(adults=(FamilyMember("GIRAUD", "Anne", date(1988, 12, 1), "F", "MARTIN"),), children=(CHILD,),
           address=ADDRESS),
    QuotientFamilial(1200, "CNAF", 2023, 6),
    HealthCover(True, with_participation=False, since=date(2024, 1, 1)),
    JobSeeker(True, since=date(2025, 3, 1), until=date(2026, 3, 1), category="1", address=ADDRESS),
    EajeInputs(2, 1, annual_resources=31_200, resources_year=2024),
    Schooling(True, "École Jules-Ferry", "0459999A", "2026-2027", "CE1", "Scolaire", True, 2),
    LibraryCard("B-0001", "Adulte", date(2027, 1, 31), 3, 1, "Médiathèque", True, 42),
    CrecheSituation("waiting", "Les Petits Loups", date(2026, 9, 1), 4),
]


def answer_with(*facts) -> SectionAnswer:
    provenance = Provenance("api_particulier", "quotient_familial", "Quotient familial (CAF/MSA)", Status.OK,
                            datetime(2026, 11, 25, 9, 30, 12, 345678, tzinfo=UTC), 42.5, date(2023, 6, 1),
                            "Réponse tirée du cache d'API Particulier.", True, 12.0)
    return SectionAnswer(provenance, tuple(facts))


def test_every_fact_type_of_the_backend_protocol_is_on_the_wire():
    # A fact type added to counter/backend.py and forgotten here would not cross.
    subclasses, todo = set(), list(backend.Fact.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if getattr(backend, cls.__name__, None) is cls:  # not the classes dataclass(slots=True) replaced
            subclasses.add(cls)
    assert subclasses == {type(fact) for fact in FACTS}


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: fact.kind)
def test_a_section_answer_round_trips_exactly(fact):
    sent = answer_with(fact)
    received = codec.decode(codec.encode(sent), SectionAnswer)
    assert received == sent
    assert type(received.facts[0]) is type(fact)


def test_a_dossier_update_round_trips_with_its_disagreements():
    conflict = Conflict("missing_child", "Quotient familial (CAF/MSA)", "Enfant connu de la source, absent du foyer",
                        "Léa GIRAUD, né(e) le 25/11/2018", "", address=ADDRESS, member=CHILD)
    sent = DossierUpdate("abc", answer=answer_with(*FACTS), conflicts=(conflict,))
    assert codec.decode(codec.encode(sent), api.DOSSIER_CONSULT.result) == sent


def test_an_unknown_fact_tag_is_a_bad_request_not_a_crash():
    body = codec.encode(answer_with(ADDRESS)).replace(b'"address"', b'"secret_weapon"')
    with pytest.raises(codec.WireFormatError):
        codec.decode(body, SectionAnswer)


def test_the_terminals_side_of_the_dossier_imports_nothing_heavy():
    import subprocess
    import sys

    probe = ("import sys, counter.client.api, counter.domain.dossier, counter.domain.facts_text; "
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                timeout=60).stdout.split())
    assert "msgspec" in loaded and "counter" in loaded
    assert not loaded & {"sqlalchemy", "sqlmodel", "pydantic", "alembic", "psycopg", "keyring", "starlette",
                         "uvicorn", "backends", "fixtures"}
