from dataclasses import replace
from datetime import date

import pytest

from counter.domain.dates import BirthDate
from counter.domain.identity_checks import (
    FRANCE,
    PersonInput,
    check_address,
    check_family,
    check_new_member,
    check_other_address,
    check_person,
    match_streets,
    numbered_street,
    read_birth_date,
    split_typed_given_names,
    street_number,
)

TODAY = date(2026, 11, 25)
PARENT = PersonInput(birth_name="Keita", given_names="binta fatoumata", sex="F", birth_date="05/04/1989",
                     birth_insee_code="45234", role="parent")
CHILD = PersonInput(birth_name="KEITA", given_names="Léonie, Marie", sex="F", birth_date="27/01/2012",
                    birth_insee_code="45999", role="child")


def errors_of(person: PersonInput) -> dict[str, str]:
    return {e.field: e.message for e in check_person(person, TODAY)}


def test_a_complete_person_passes_and_gives_the_person_columns():
    assert check_person(PARENT, TODAY) == []
    assert PARENT.to_person_fields() == {
        "birth_name": "KEITA", "usage_name": None, "given_names": "Binta, Fatoumata", "sex": "F",
        "birth_year": 1989, "birth_month": 4, "birth_day": 5, "birth_insee_code": "45234",
        "birth_country_code": "99100",
    }


def test_required_fields_each_at_its_field():
    found = errors_of(PersonInput())
    assert found == {
        "role": "Choisissez le rôle dans le foyer (parent, enfant, autre responsable).",
        "birth_name": "Le nom de naissance est obligatoire.",
        "given_names": "Au moins un prénom est obligatoire.",
        "sex": "Choisissez le sexe à l'état civil (F ou M).",
        "birth_date": "La date de naissance est obligatoire.",
        "birth_insee_code": "Né(e) en France : le code INSEE de la commune est obligatoire "
                            "(ou un code pays pour une naissance à l'étranger).",
    }
    assert "given_names" in errors_of(replace(PARENT, given_names=" , ,"))


@pytest.mark.parametrize("typed, names", [
    ("binta fatoumata", ["Binta", "Fatoumata"]),
    ("JEAN-PIERRE  marc", ["Jean-Pierre", "Marc"]),
    ("Marie Claire, Anne", ["Marie Claire", "Anne"]),  # commas: given names with spaces
    ("Jean-Luc, d'Artagnan", ["Jean-Luc", "d'Artagnan"]),  # mixed case kept as typed
    ("éloïse", ["Éloïse"]),
])
def test_given_names_keep_civil_status_order(typed, names):
    assert split_typed_given_names(typed) == names


def test_names_stored_in_capitals_and_usage_name_optional():
    fields = replace(PARENT, birth_name="  n'diaye  le  gall ", usage_name="Martin").to_person_fields()
    assert fields["birth_name"] == "N'DIAYE LE GALL" and fields["usage_name"] == "MARTIN"


@pytest.mark.parametrize("field, value, message", [
    ("birth_name", "Dupont2", "Nom de naissance : les chiffres ne sont pas admis."),
    ("birth_name", "Du\x1b[31mpont", "Nom de naissance : caractère invisible ou de contrôle non autorisé."),
    ("birth_name", "Dup\u202eont", "Nom de naissance : caractère invisible ou de contrôle non autorisé."),
    ("birth_name", "Dupont@", "Nom de naissance : caractère non admis « @ » (lettres, espace, trait d'union, "
                              "apostrophe)."),
    ("birth_name", "--", "Nom de naissance : au moins une lettre."),
    ("birth_name", "A" * 121, "120 caractères au plus."),
    ("usage_name", "Martin 3", "Nom d'usage : les chiffres ne sont pas admis."),
    ("given_names", "Jean 2", "Prénoms : les chiffres ne sont pas admis."),
    ("given_names", "Jean\tPaul\x07", "Prénoms : caractère invisible ou de contrôle non autorisé."),
])
def test_names_with_digits_or_control_characters_are_refused(field, value, message):
    assert errors_of(replace(PARENT, **{field: value})) == {field: message}


def test_sex_is_m_or_f():
    assert errors_of(replace(PARENT, sex="m")) == {}
    assert errors_of(replace(PARENT, sex="X")) == {"sex": "Choisissez le sexe à l'état civil (F ou M)."}


@pytest.mark.parametrize("typed, birth", [
    ("27/12/1982", BirthDate(1982, 12, 27)),
    ("27.12.1982", BirthDate(1982, 12, 27)),
    ("27121982", BirthDate(1982, 12, 27)),
    ("06/1987", BirthDate(1987, 6)),
    ("--/06/1987", BirthDate(1987, 6)),
    ("00/06/1987", BirthDate(1987, 6)),
    ("XX/06/1987", BirthDate(1987, 6)),
    ("1950", BirthDate(1950)),
    ("00/00/1950", BirthDate(1950)),
    ("--/--/1950", BirthDate(1950)),
])
def test_full_and_partial_civil_status_dates(typed, birth):
    assert read_birth_date(typed) == (birth, None)


@pytest.mark.parametrize("typed, message", [
    ("31/02/2020", "Cette date n'existe pas (31/02/2020)."),
    ("12/13/2020", "Cette date n'existe pas (12/13/2020)."),
    ("13/1999", "Ce mois n'existe pas (13/1999)."),
    ("1/1/20", "Date invalide : jj/mm/aaaa (ou mm/aaaa, aaaa si l'état civil ne donne pas le jour ou le mois)."),
    ("hier", "Date invalide : jj/mm/aaaa (ou mm/aaaa, aaaa si l'état civil ne donne pas le jour ou le mois)."),
])
def test_impossible_dates_say_why(typed, message):
    assert read_birth_date(typed) == (None, message)
    assert errors_of(replace(PARENT, birth_date=typed)) == {"birth_date": message}


def test_partial_dates_are_stored_without_invented_parts():
    abroad = replace(PARENT, birth_date="06/1987", birth_insee_code="", birth_country_code="99350")
    assert check_person(abroad, TODAY) == []
    fields = abroad.to_person_fields()
    assert (fields["birth_year"], fields["birth_month"], fields["birth_day"]) == (1987, 6, None)


def test_future_and_improbable_dates():
    assert errors_of(replace(CHILD, birth_date="26/11/2026")) == {"birth_date": "La date de naissance est dans le futur."}
    assert errors_of(replace(CHILD, birth_date="25/11/2026")) == {}  # born today
    assert errors_of(replace(CHILD, birth_date="2027")) == {"birth_date": "La date de naissance est dans le futur."}
    assert errors_of(replace(CHILD, birth_date="11/2026")) == {}  # born already
    assert errors_of(replace(CHILD, birth_date="12/2026")) == {"birth_date": "La date de naissance est dans le futur."}
    assert errors_of(replace(PARENT, birth_date="1900")) == {
        "birth_date": "Date de naissance improbable (plus de 120 ans)."}


def test_a_parent_under_14_or_a_child_over_30_is_refused():
    young = "Un parent ou responsable a au moins 14 ans : vérifiez la date de naissance ou le rôle."
    old = "Un enfant du foyer a au plus 30 ans : vérifiez la date de naissance ou le rôle."
    assert errors_of(replace(PARENT, birth_date="26/11/2012")) == {"birth_date": young}
    assert errors_of(replace(PARENT, birth_date="25/11/2012")) == {}
    assert errors_of(replace(PARENT, role="other_guardian", birth_date="01/01/2020")) == {"birth_date": young}
    assert errors_of(replace(PARENT, birth_date="2012")) == {}  # could be 14 already
    assert errors_of(replace(CHILD, birth_date="25/11/1995")) == {"birth_date": old}  # 31 today
    assert errors_of(replace(CHILD, birth_date="26/11/1995")) == {}
    assert errors_of(replace(CHILD, birth_date="1995")) == {}  # could be 30 still


@pytest.mark.parametrize("insee, country, birth, error", [
    ("45234", "99100", "01/01/1990", None),
    ("97411", "", "01/01/1990", None),  # La Réunion; a blank country is France
    ("2A004", "99100", "01/01/1990", None),  # Ajaccio
    ("2b033", "99100", "01/01/1990", None),  # Bastia, typed in lower case
    ("20004", "99100", "01/01/1970", None),  # Corsica before the split
    ("", "99350", "1970", None),  # born in Morocco
    ("", "99100", "01/01/1990", "birth_insee_code"),  # France without a commune
    ("4523", "99100", "01/01/1990", "birth_insee_code"),
    ("2C004", "99100", "01/01/1990", "birth_insee_code"),
    ("00123", "99100", "01/01/1990", "birth_insee_code"),
    ("99350", "99100", "01/01/1990", "birth_insee_code"),  # a country typed as a commune
    ("20004", "99100", "01/01/1990", "birth_insee_code"),  # 20 after 1976
    ("2A004", "99100", "01/01/1970", "birth_insee_code"),  # 2A before 1976
    ("45234", "99350", "01/01/1990", "birth_insee_code"),  # abroad with a French commune
    ("", "12345", "01/01/1990", "birth_country_code"),
    ("", "France", "01/01/1990", "birth_country_code"),
])
def test_birthplace_commune_or_country(insee, country, birth, error):
    person = replace(PARENT, birth_insee_code=insee, birth_country_code=country, birth_date=birth)
    assert list(errors_of(person)) == ([error] if error else [])


def test_birthplace_messages_are_french():
    assert errors_of(replace(PARENT, birth_insee_code="2A004", birth_date="1970"))["birth_insee_code"] == (
        "Né(e) en Corse avant 1976 : le code commence par 20.")
    assert errors_of(replace(PARENT, birth_insee_code="20004"))["birth_insee_code"] == (
        "Né(e) en Corse depuis 1976 : le code commence par 2A ou 2B.")
    assert errors_of(replace(PARENT, birth_country_code="99350"))["birth_insee_code"] == (
        "Né(e) à l'étranger : laissez la commune vide, le pays suffit.")
    assert errors_of(replace(PARENT, birth_insee_code="99350"))["birth_insee_code"] == (
        "99… est un code pays : mettez-le dans « Pays de naissance ».")
    assert errors_of(replace(PARENT, birth_country_code="123"))["birth_country_code"] == (
        "Code pays : 5 chiffres commençant par 99 (99100 = France).")


def test_born_abroad_is_stored_without_a_commune():
    fields = replace(PARENT, birth_insee_code="", birth_country_code=" 99350 ").to_person_fields()
    assert (fields["birth_insee_code"], fields["birth_country_code"]) == (None, "99350")
    assert replace(PARENT, birth_insee_code="2a004").to_person_fields()["birth_insee_code"] == "2A004"


def test_a_family_needs_an_adult():
    message = "Le foyer doit compter au moins un parent ou un autre responsable."
    assert [e.message for e in check_family([CHILD], TODAY)] == [message]
    assert [e.message for e in check_family([], TODAY)] == [message]
    assert check_family([CHILD, replace(PARENT, role="other_guardian")], TODAY) == []


def test_a_family_cannot_list_the_same_person_twice():
    same = replace(PARENT, birth_name="KÉITA", given_names="Binta, Fatoumata")
    errors = check_family([PARENT, CHILD, same], TODAY)
    assert [(e.field, e.message) for e in errors] == [
        ("members", "Les membres n° 1 et n° 3 sont la même personne (mêmes noms, prénoms et date de naissance).")]
    twins = replace(CHILD, given_names="Léon")
    assert check_family([PARENT, CHILD, twins], TODAY) == []


def test_the_member_form_refuses_someone_already_listed():
    assert check_new_member(CHILD, [PARENT], TODAY) == []
    again = replace(CHILD, given_names="LÉONIE MARIE", birth_name="keita")
    assert [(e.field, e.message) for e in check_new_member(again, [PARENT, CHILD], TODAY)] == [
        ("members", "Cette personne est déjà dans la liste des membres (mêmes noms, prénoms et date de naissance).")]
    assert [e.field for e in check_new_member(replace(again, sex=""), [CHILD], TODAY)] == ["sex"]


def test_town_address_checks():
    assert check_address(3, 12, "bis", "Bâtiment B") == []
    assert check_address(3, 7, None, None, "avenue Louis-Pasteur") == []
    assert {e.field: e.message for e in check_address(None, 0, "quinquies", "x\x1b")} == {
        "street": "Choisissez la rue dans la liste (tapez une partie de son nom).",
        "number": "Numéro : un nombre de 1 à 9999.",
        "suffix": "Indice : bis, ter ou quater.",
        "complement": "Complément : caractère invisible ou de contrôle non autorisé.",
    }
    assert [e.message for e in check_address(3, None, "ter", None, "lieu-dit les Prés")] == [
        "Un indice (bis, ter) suit un numéro."]
    assert street_number(" 12 ") == (12, None) and street_number("") == (None, None)
    assert street_number("12b")[1].field == "number" and street_number("-3")[1] is not None


def test_a_town_street_address_needs_its_number_but_a_lieu_dit_has_none():
    assert [(e.field, e.message) for e in check_address(3, None, None, None, "avenue Louis-Pasteur")] == [
        ("number", "Le numéro est obligatoire dans cette rue (bis, ter : à côté).")]
    assert [e.field for e in check_address(3, None, None, None)] == ["number"]  # street unknown: numbered
    assert check_address(3, None, None, None, "lieu-dit les Grands Prés") == []
    assert check_address(3, None, None, "Ferme du Moulin", "Hameau de Chaumont") == []
    assert numbered_street("rue des Lilas") and not numbered_street("Lieu dit la Croix")


def test_a_child_known_to_an_agency_may_have_its_commune_to_complete():
    unknown = replace(CHILD, birth_insee_code="", birth_country_code=FRANCE)
    assert [e.field for e in check_person(unknown, TODAY)] == ["birth_insee_code"]
    later = replace(unknown, birthplace_to_complete=True)
    assert check_person(later, TODAY) == []
    fields = later.to_person_fields()
    assert (fields["birth_country_code"], fields["birth_insee_code"]) == ("99100", None)
    # A commune typed all the same is kept, and still checked.
    assert replace(later, birth_insee_code="45234").to_person_fields()["birth_insee_code"] == "45234"
    assert [e.field for e in check_person(replace(later, birth_insee_code="4523"), TODAY)] == ["birth_insee_code"]


def test_other_address_checks():
    assert check_other_address("8 rue Bannier", "45000", "Orléans", None) == []
    assert [e.field for e in check_other_address("", " ", None, "c" * 121)] == [
        "line", "postal_code", "city", "complement"]


def test_streets_are_found_by_part_of_their_name():
    streets = [(1, "allée des Pommiers"), (2, "avenue Louis-Pasteur"), (3, "rue des Lilas"), (4, "impasse Pasteur"),
               (5, "rue du Compas")]
    assert match_streets(streets, "pasteur") == [(2, "avenue Louis-Pasteur"), (4, "impasse Pasteur")]
    assert match_streets(streets, "louis past") == [(2, "avenue Louis-Pasteur")]
    assert match_streets(streets, "LILAS") == [(3, "rue des Lilas")]
    assert match_streets(streets, "allee pom") == [(1, "allée des Pommiers")]
    # A word starting a part of the name first, then words found inside a part.
    assert match_streets(streets, "pas") == [(2, "avenue Louis-Pasteur"), (4, "impasse Pasteur"), (5, "rue du Compas")]
    assert match_streets(streets, "") == streets
    assert match_streets(streets, "xyz") == []
