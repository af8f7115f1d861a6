"""The town's BAN addresses across the socket: `family.numbers`, and the picked
`ban_id` sent with a new family and with a household's address."""

from __future__ import annotations

from sqlalchemy import text

from counter.domain.addresses import TownNumber
from counter.domain.identity_checks import PersonInput
from counter.services.address_import import import_addresses
from tests.service.test_visits_service import serving
from tests.store.test_address_import import FIRST, write

PARENT = PersonInput(birth_name="NOUVEAU", given_names="Ana", sex="F", birth_date="02/03/1990",
                     birth_insee_code="45234", role="parent")


def test_numbers_and_the_picked_address_cross_the_socket(store, tmp_path):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    with serving(store, tmp_path) as client:
        streets = dict((name, street_id) for street_id, name in client.streets())
        numbers = client.street_numbers(streets["Rue des Lilas"])
        assert numbers == (TownNumber("45999_0150_00010", 10, None), TownNumber("45999_0150_00012", 12, None),
                           TownNumber("45999_0150_00012_bis", 12, "bis"), TownNumber("45999_0150_00012_a", 12, "a"))
        assert client.street_numbers(424242) == ()  # no such street: nothing to pick, typed
        written = client.create_family(streets["Rue des Lilas"], 12, "a", None, [PARENT],
                                      ban_id="45999_0150_00012_a")
        moved = client.set_address(written.id, street_id=streets["Avenue du Port"], ban_id="45999_0200_00003")
        wrong = client.set_address(written.id, street_id=streets["Avenue du Port"], ban_id="45999_0150_00010")
    assert written.errors == () and moved.errors == ()
    assert [e.field for _, e in wrong.errors] == ["number"]
    with store.engine.connect() as c:
        assert c.execute(text("SELECT number, postal_code, ban_id FROM address WHERE id = :a"),
                         {"a": moved.id}).one() == (3, "45998", "45999_0200_00003")
