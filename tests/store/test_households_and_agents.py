from datetime import date

import pytest

from counter.services.agents import AgentError, AgentService
from counter.services.households import HouseholdService
from counter.store.models import Address
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)


def test_household_lists_members_with_roles_levels_and_both_addresses(store):
    elsewhere = Address(line="8 rue Bannier", postal_code="45000", city="Orléans")
    household_id = add_household(store, "rue des Lilas", 4, [
        (person("GARNIER", "Léo", (2021, 5, 27), sex="M"), "child"),
        (person("GARNIER", "Nicolas", (1997, 9, 30), sex="M", phone="06 12 34 56 78"), "parent"),
        (person("PETIT", "Julie", (1998, 1, 2), email="julie@exemple.fr"), "parent"),
        (person("GARNIER", "Nolan", (2026, 10, 1), sex="M"), "child"),
    ], caf_number="765", own_addresses={2: elsewhere})
    view = HouseholdService(store).get(household_id)
    assert [m.person.given_names[0] for m in view.members] == ["Nicolas", "Julie", "Léo", "Nolan"]
    assert [m.role_label for m in view.members] == ["Parent", "Parent", "Enfant", "Enfant"]
    nicolas, julie, leo, nolan = view.members
    assert view.address.one_line() == "4 rue des Lilas, 45999 Bellerive-sur-Loire"
    assert julie.own_address.one_line() == "8 rue Bannier, 45000 Orléans"
    assert [label for label, _ in view.addresses()] == ["Foyer", "Julie PETIT"]
    assert nicolas.phone == "06 12 34 56 78" and julie.email == "julie@exemple.fr"
    # School year 2027-2028: born in 2021 → CP; a newborn is of crèche age, from 10 weeks.
    assert leo.school_level(TODAY) == "CP"
    assert nolan.school_level(TODAY) is None
    assert nolan.creche_note(TODAY) == "âge crèche (accueil possible dès le 10/12/2026)"
    assert leo.creche_note(TODAY) is None
    assert view.caf_number == "765"


def test_unknown_household_is_none(store):
    assert HouseholdService(store).get(424242) is None


def test_agents_are_added_listed_disabled_and_re_enabled(store):
    agents = AgentService(store)
    agents.add("mdupont", "agent", "Marie Dupont")
    agents.add("chef", "supervisor")
    with pytest.raises(AgentError, match="already exists"):
        agents.add("mdupont", "agent")
    with pytest.raises(AgentError, match="invalid role"):
        agents.add("x", "mayor")
    with pytest.raises(AgentError, match="invalid login"):
        agents.add("bad login!", "agent")
    assert [(a.login, a.role, a.active) for a in agents.list()] == [
        ("chef", "supervisor", True), ("mdupont", "agent", True)]
    agents.disable("mdupont")
    assert agents.get("mdupont").active is False
    with pytest.raises(AgentError, match="no agent"):
        agents.disable("nobody")
    agents.add("mdupont", "trainer")
    assert agents.get("mdupont").role == "trainer" and agents.get("mdupont").active
