"""Disagreements between agencies and the town's household."""

from datetime import UTC, date, datetime

from counter.backend import (
    Family,
    FamilyMember,
    Identity,
    JobSeeker,
    PostalAddress,
    Provenance,
    QuotientFamilial,
    SectionAnswer,
    Status,
    Subject,
)
from counter.domain.dates import BirthDate
from counter.domain.merge import conflicts, normalise_street, same_address
from counter.domain.people import AddressView, HouseholdView

HOME = AddressView(number=12, street="avenue Jean-Jaurès", postal_code="45999", city="Bellerive-sur-Loire")
ANNE = Identity("GIRAUD", ("Anne",), "F", BirthDate(1988, 12, 1))
LEA = Identity("GIRAUD", ("Léa",), "F", BirthDate(2018, 11, 25))


def subject(members=(("parent", ANNE), ("child", LEA))):
    return Subject(1, ANNE, date(2026, 11, 25), "parent", HouseholdView(7, HOME, "123"), tuple(members))


def answer(*facts, status=Status.OK, label="Quotient familial (CAF/MSA)"):
    return SectionAnswer(Provenance("api_particulier", "quotient_familial", label, status, datetime.now(UTC)), facts)


def test_addresses_compare_folded_and_abbreviated():
    assert normalise_street("12 AV. JEAN JAURES") == "12 avenue jean jaures"
    assert same_address(PostalAddress("12 AVENUE JEAN-JAURES", "45999", "BELLERIVE"), HOME)
    assert same_address(PostalAddress("12 av Jean Jaurès", "45999"), HOME)
    assert not same_address(PostalAddress("12 AVENUE JEAN JAURES", "13127", "VITROLLES"), HOME)
    assert not same_address(PostalAddress("31 AVENUE DE MARSEILLE", "45999"), HOME)


def test_agreeing_family_gives_no_conflict():
    family = Family(
        adults=(FamilyMember("GIRAUD", "ANNE", date(1988, 12, 1), "F"),),
        children=(FamilyMember("GIRAUD", "LEA", date(2018, 11, 25), "F"),),
        address=PostalAddress("12 AVENUE JEAN JAURES", "45999", "BELLERIVE-SUR-LOIRE"),
    )
    assert conflicts(subject(), [answer(QuotientFamilial(1200, "CNAF"), family)]) == []


def test_moved_family_and_unknown_child_are_flagged_with_their_source():
    family = Family(
        adults=(FamilyMember("GIRAUD", "ANNE", date(1988, 12, 1), "F"),),
        children=(
            FamilyMember("GIRAUD", "LEA", date(2018, 11, 25), "F"),
            FamilyMember("GIRAUD", "SARAH", date(2012, 7, 12), "F"),
        ),
        address=PostalAddress("31 AVENUE DE MARSEILLE", "13127", "VITROLLES"),
    )
    found = conflicts(subject(), [answer(family)])
    kinds = sorted(c.kind for c in found)
    assert kinds == ["address", "missing_child"]
    address = next(c for c in found if c.kind == "address")
    assert "31 AVENUE DE MARSEILLE, 13127 VITROLLES" == address.agency_value
    assert "12 avenue Jean-Jaurès" in address.town_value
    child = next(c for c in found if c.kind == "missing_child")
    assert child.agency_value == "SARAH GIRAUD, né(e) le 12/07/2012"
    assert child.source == "Quotient familial (CAF/MSA)"


def test_allocataire_missing_from_the_household_is_flagged():
    family = Family(adults=(FamilyMember("ROUX", "LOIC NATHAN", date(1979, 5, 19), "M"),))
    found = conflicts(subject(), [answer(family)])
    assert [c.kind for c in found] == ["missing_adult"]


def test_partial_town_birth_date_still_matches():
    jeanne = Identity("ROUX", ("Jeanne", "Stephanie"), "F", BirthDate(1987, 6))
    family = Family(adults=(FamilyMember("ROUX", "JEANNE STEPHANIE", date(1987, 6, 27), "F"),))
    assert conflicts(subject((("parent", jeanne),)), [answer(family)]) == []


def test_failed_sections_and_job_seeker_address():
    failed = answer(Family(address=PostalAddress("1 RUE X", "75002")), status=Status.UNAVAILABLE)
    assert conflicts(subject(), [failed]) == []
    seeker = JobSeeker(True, address=PostalAddress("11 Rue Capus", "31400", "TOULOUSE"))
    found = conflicts(subject(), [answer(seeker, label="France Travail")])
    assert [(c.kind, c.source) for c in found] == [("address", "France Travail")]


def test_the_same_disagreement_from_two_sections_shows_once():
    moved = Family(address=PostalAddress("31 AVENUE DE MARSEILLE", "13127", "VITROLLES"))
    found = conflicts(subject(), [answer(moved), answer(moved, label="Participation crèche (EAJE)")])
    assert len(found) == 1
    assert found[0].source == "Quotient familial (CAF/MSA), Participation crèche (EAJE)"
