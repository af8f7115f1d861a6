"""Papers to ask for (minus what an agency confirms) and the library card category."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from counter.domain.library import LibraryCategory, LibraryRules, library_category
from counter.domain.papers import papers_for
from counter.domain.rules import DEFAULT_LIBRARY
from counter.domain.visits import Kind


def school(**changes):
    args = dict(separated_parents=False, address_confirmed_by=None, resources_confirmed_by=None,
                minor=True, new_family=False)
    return papers_for(Kind.SCHOOL, **(args | changes))


def labels(papers):
    return [p.label for p in papers]


def test_school_papers_without_agency_data_are_all_to_provide():
    papers = school()
    assert labels(papers) == [
        "Livret de famille ou acte de naissance de l'enfant",
        "Justificatif de domicile de moins de 3 mois",
        "Carnet de santé (pages des vaccinations) ou certificat de vaccination",
    ]
    assert all(p.to_provide for p in papers)


def test_an_address_the_caf_confirms_is_not_asked_for():
    address = school(address_confirmed_by="CAF")[1]
    assert address.confirmed_by == "CAF" and not address.to_provide
    assert address.text == "Justificatif de domicile de moins de 3 mois : déjà confirmé par la CAF"


def test_separated_parents_bring_the_custody_judgment():
    assert any("Jugement" in label for label in labels(school(separated_parents=True)))
    assert not any("Jugement" in label for label in labels(school()))


def creche(**changes):
    args = dict(separated_parents=False, address_confirmed_by=None, resources_confirmed_by=None,
                minor=True, new_family=False)
    return papers_for(Kind.CRECHE, **(args | changes))


def test_creche_resources_confirmed_by_the_caf():
    papers = creche(resources_confirmed_by="CAF")
    resources = next(p for p in papers if "ressources" in p.label)
    assert resources.confirmed_by == "CAF"
    assert next(p for p in creche() if "ressources" in p.label).to_provide


def test_an_expected_birth_brings_a_pregnancy_declaration_instead_of_the_livret():
    expected = labels(creche(new_family=True))
    assert expected[0].startswith("Déclaration de grossesse")
    assert not any("Livret" in label for label in expected)
    assert labels(creche())[0].startswith("Livret de famille")


def test_library_papers():
    base = dict(separated_parents=False, address_confirmed_by="CAF", resources_confirmed_by=None, new_family=False)
    assert labels(papers_for(Kind.LIBRARY, minor=False, **base)) == ["Pièce d'identité"]
    assert labels(papers_for(Kind.LIBRARY, minor=True, **base))[1].startswith("Autorisation parentale")


# -- library categories ----------------------------------------------------------


@pytest.mark.parametrize("age, flags, code, reason", [
    (12, dict(student=True, job_seeker=True, c2s=True), "ENFANT", "mineur (moins de 18 ans)"),
    (17, dict(student=False, job_seeker=False, c2s=False), "ENFANT", "mineur (moins de 18 ans)"),
    (30, dict(student=True, job_seeker=True, c2s=True), "DEMANDEUR", "demandeur d'emploi (France Travail)"),
    (30, dict(student=True, job_seeker=False, c2s=True), "SOLIDAIRE",
     "bénéficiaire de la complémentaire santé solidaire (C2S)"),
    (20, dict(student=True, job_seeker=False, c2s=False), "ETUDIANT", "étudiant(e)"),
    (18, dict(student=False, job_seeker=False, c2s=False), "ADULTE", "adulte"),
    (80, dict(student=False, job_seeker=False, c2s=False), "ADULTE", "adulte"),  # no senior category by default
])
def test_library_priorities_with_the_default_categories(age, flags, code, reason):
    choice = library_category(age, **flags, rules=DEFAULT_LIBRARY)
    assert (choice.code, choice.reason) == (code, reason)


def test_default_prices():
    assert library_category(40, student=False, job_seeker=False, c2s=False, rules=DEFAULT_LIBRARY).price == D("15")
    free = library_category(40, student=True, job_seeker=False, c2s=False, rules=DEFAULT_LIBRARY).category
    assert free.price == 0 and free.price_text == "gratuit"


def test_a_configured_senior_category_comes_after_the_free_ones():
    rules = LibraryRules(
        categories=DEFAULT_LIBRARY.categories + (LibraryCategory("SENIOR", "Senior", D("8")),),
        adult="ADULTE", minor="ENFANT", student="ETUDIANT", job_seeker="DEMANDEUR", c2s="SOLIDAIRE",
        senior="SENIOR", senior_age=65,
    )
    assert library_category(65, student=False, job_seeker=False, c2s=False, rules=rules).code == "SENIOR"
    assert library_category(64, student=False, job_seeker=False, c2s=False, rules=rules).code == "ADULTE"
    assert library_category(70, student=False, job_seeker=False, c2s=True, rules=rules).code == "SOLIDAIRE"
    assert library_category(70, student=False, job_seeker=False, c2s=False, rules=rules).reason == "65 ans ou plus"


@pytest.mark.parametrize(("today", "months", "until"), [
    (date(2026, 11, 25), 12, date(2027, 11, 25)),
    (date(2027, 1, 31), 1, date(2027, 2, 28)),  # a shorter month ends the card on its last day
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 12, 15), 6, date(2027, 6, 15)),
])
def test_a_card_is_valid_for_the_town_s_number_of_months(today, months, until):
    from dataclasses import replace

    assert replace(DEFAULT_LIBRARY, card_months=months).valid_until(today) == until
