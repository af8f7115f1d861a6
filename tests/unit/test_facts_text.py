from datetime import UTC, date, datetime

import pytest

from counter.backend import (
    CrecheSituation,
    EajeInputs,
    HealthCover,
    JobSeeker,
    LibraryCard,
    Provenance,
    QuotientFamilial,
    Schooling,
    Status,
)
from counter.domain.facts_text import describe, status_line

TODAY = date(2026, 11, 25)


def test_facts_read_as_french_sentences_with_french_dates():
    assert describe(QuotientFamilial(1200, "CNAF", 2023, 6), TODAY) == ["Quotient familial : 1200 (CNAF, juin 2023)"]
    assert describe(HealthCover(True, False, date(2023, 2, 1)), TODAY) == [
        "Bénéficiaire de la C2S sans participation depuis le 01/02/2023"]
    assert describe(HealthCover(False), TODAY) == ["Non bénéficiaire de la complémentaire santé solidaire"]
    assert describe(JobSeeker(True, date(2020, 1, 1), category="CAT 1"), TODAY) == [
        "Inscrit(e) comme demandeur d'emploi depuis le 01/01/2020", "Catégorie : CAT 1"]
    assert describe(EajeInputs(1, 1, 40923, 2023), TODAY) == [
        "Enfants à charge : 1 · dont AEEH : 1", "Ressources annuelles 2023 : 40\u202f923 €"]
    assert describe(Schooling(True, "Collège André Malraux", "0132634T", "2025-2026", scholarship=True,
                              scholarship_level=1), TODAY)[0] == (
        "Scolarisé(e) 2025-2026 : Collège André Malraux (0132634T)")
    card = describe(LibraryCard("2301", "ADULTE", date(2026, 1, 1), 3, 1), TODAY)
    assert card == ["Carte 2301 (ADULTE) — expirée depuis le 01/01/2026", "3 prêt(s) dont 1 en retard"]
    assert describe(CrecheSituation("waiting", "Les Lutins", rank=4), TODAY) == [
        "Crèche : sur liste d'attente · Les Lutins · rang 4"]


def test_status_line_says_source_status_date_and_time_without_colour():
    ok = Provenance("api_particulier", "qf", "QF", Status.OK, datetime.now(UTC), 231.4, as_of=date(2023, 6, 1))
    assert status_line(ok, "API Particulier") == "✓ API Particulier · a répondu · au 01/06/2023 · 231 ms"
    limited = Provenance("api_particulier", "qf", "QF", Status.RATE_LIMITED, datetime.now(UTC), 12, retry_in=30)
    assert status_line(limited).startswith("✗ api_particulier · trop de demandes")
    assert status_line(limited).endswith("réessayer dans 30 s")


def test_the_town_systems_school_states_read_in_french():

    from backends.city.adapter import _schooling
    from backends.http import AgencyError

    def lines(state: str) -> list[str]:
        enrolment = {"school_year": 2027, "uai": "0459456J", "school_name": "École élémentaire Charles-Péguy",
                     "level": "CP", "state": state}
        return describe(_schooling(enrolment), TODAY)

    assert lines("enrolled") == ["Scolarisé(e) 2027-2028 : École élémentaire Charles-Péguy (0459456J)",
                                 "CP · place attribuée"]
    assert lines("pending") == ["Demande d'inscription 2027-2028 : École élémentaire Charles-Péguy (0459456J)",
                                "CP · inscription à confirmer"]
    assert lines("derogation_requested")[1] == "CP · dérogation demandée"
    # The ministry's "not a pupil" has no school: still said as such.
    assert describe(Schooling(False, school_year="2025-2026"), TODAY) == ["Non scolarisé(e) 2025-2026"]
    with pytest.raises(AgencyError, match="inconnu"):  # never shown as it came
        lines("graduated")
