"""A new family's bad fields: a French message at the field, and nothing written."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text as sql

from counter.clock import FixedClock
from counter.domain.identity_checks import PersonInput, check_new_member, street_number
from tests.badinput.corpus import params
from tests.conftest import TODAY

PARENT = PersonInput(birth_name="Okonkwo", given_names="adaeze chioma", sex="F", birth_date="14/03/1990",
                     birth_country_code="99315", role="parent")
CHILD = PersonInput(birth_name="Okonkwo", given_names="Léa", sex="F", birth_date="02/09/2019",
                    birth_insee_code="45234", role="child")
TABLES = ("address", "household", "person", "household_member", "audit_entry", "search_token")
UNKNOWN_STREET = 999_999


def values(case: dict, key: str) -> dict:
    found = dict(case.get(key, {}))
    found.update({name: piece * times for name, (piece, times) in case.get(f"{key}_repeat", {}).items()})
    return found


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(sql(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """A small town: one street, no one yet."""
    from counter.services.families import FamilyService
    from counter.store import migrate
    from counter.store.engine import Store
    from counter.store.models import Street
    from tests.factories import TOWN

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('families') / 'town.sqlite3'}")
    migrate.upgrade(store)
    with store.write() as session:
        street = Street(name="rue des Lilas", postal_code=TOWN[0], city=TOWN[1])
        session.add(street)
        session.flush()
        street_id = street.id
    yield FamilyService(store, "agent1", host="guichet-1", clock=FixedClock(TODAY)), street_id
    store.dispose()


@pytest.mark.parametrize("case", params("identity"))
def test_a_bad_field_is_named_and_nothing_is_written(case, town):
    from counter.services.families import FamilyError

    service, street_id = town
    member = replace(CHILD if case.get("base") == "child" else PARENT, **values(case, "set"))
    members = {"alone": [member], "twice": [member, member]}.get(
        case.get("family"), [member] if member.role != "child" else [PARENT, member])
    address = values(case, "address")
    street = {"none": None, "unknown": UNKNOWN_STREET}.get(address.get("street"), street_id)
    before = counts(service.store)

    # As the screen does: the typed number first, then the service's checks and its one write.
    number, number_error = street_number(address.get("number", "12"))
    if number_error is not None:
        errors = [number_error]
    else:
        with pytest.raises(FamilyError) as refused:
            service.create(street, number, address.get("suffix"), address.get("complement", ""), members)
        errors = [error for _, error in refused.value.errors]
    assert any(e.field == case["field"] and case["says"] in e.message for e in errors), errors
    assert counts(service.store) == before

    if "set" in case or "set_repeat" in case:  # the member form says it at the field, before any write
        found = check_new_member(member, [], TODAY)
        assert any(e.field == case["field"] and case["says"] in e.message for e in found), found
