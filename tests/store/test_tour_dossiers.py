"""The dossiers of the day's appointments travel with the roaming bus (docs/tour.md): asked of
the emulated agencies over their real adapters at prepare time, on SQLite and PostgreSQL;
shown on board, agencies unreachable, as cached with the agency's date, and the others as
« indisponible hors ligne »; purged."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from counter.backend import Status
from counter.clock import FixedClock
from counter.domain.facts_text import cached_at, status_line
from counter.runtime import Runtime
from counter.service.composition import attach_dossier, build_backends, make_services
from counter.services import audit
from counter.services.audit import Actor
from counter.services.dossier import DossierService
from counter.services.tour_dossiers import (
    AppointmentsError, parse_appointments, purge, stored_answer, take_along
)
from counter.services.tour_prepare import PrepareError, prepare_replica
from counter.settings import EmulatorKnobs
from counter.store.engine import Store
from fixtures.emulators.town_data import REFERENCE_DATE, town_data
from tests.factories import add_household, person

PREPARED_ON = REFERENCE_DATE  # the emulated agencies' town is as of this day
ADMIN = "counter"  # the town's service account
AGENCIES = ("api_particulier", "koha", "city")


def copy_of_town_household(store, town, household_id: int, street: str) -> int:
    """One of the emulated agencies' families, as the town's database records it."""
    members = []
    for member in town.members_of[household_id]:
        row = town.persons[member["person_id"]]
        members.append((person(row["birth_name"], row["given_names"],
                               (row["birth_year"], row["birth_month"], row["birth_day"]), sex=row["sex"],
                               birth_insee_code=row["birth_insee_code"],
                               birth_country_code=row["birth_country_code"], nir=row["nir"]), member["role"]))
    return add_household(store, street, 10 + household_id, members)


@pytest.fixture
def families(store):
    """Three of the agencies' families on the route's street, one on another street."""
    town = town_data()
    ids = {name: copy_of_town_household(store, town, number, street) for name, number, street in (
        ("keita", 1, "rue des Sablons"), ("trabelsi", 2, "rue des Sablons"), ("third", 3, "rue des Sablons"),
        ("away", 4, "rue des Lilas"))}
    with store.engine.connect() as connection:
        streets = dict(connection.execute(text("SELECT name, id FROM street")).all())
        persons = {name: connection.execute(text("SELECT person_id FROM household_member WHERE household_id = :h "
                                                 "ORDER BY id"), {"h": household}).scalars().all()
                   for name, household in ids.items()}
    return {"households": ids, "streets": streets, "persons": persons}


def runtime(tmp_path, store_url: str, today: date, **knobs) -> Runtime:
    return Runtime(mode="training", data_dir=tmp_path, database_url=store_url, clock=FixedClock(today),
                   agent_login=ADMIN, emulators={name: EmulatorKnobs(**knobs) for name in AGENCIES})


def dossiers(store, tmp_path, bus: str = "bus-1"):
    """What `counter tour prepare --appointments` hands prepare_replica: the agencies (the
    emulated ones, over their real httpx adapters) asked through the dossier's fan-out."""
    setup = runtime(tmp_path, str(store.url), PREPARED_ON)
    actor = Actor.here(ADMIN, "")
    return lambda households: take_along(lambda: DossierService(store, build_backends(setup), setup.clock), actor,
                                         households, bus)


def prepare(store, families, tmp_path, appointments, name="replica.sqlite3"):
    path = tmp_path / "bus" / name
    report = prepare_replica(store, f"sqlite:///{path}", bus="bus-1",
                             streets=[families["streets"]["rue des Sablons"]],
                             appointments=[families["households"][a] for a in appointments],
                             dossiers=dossiers(store, tmp_path))
    return path, report


def stored(replica_path) -> list:
    replica = Store(f"sqlite:///{replica_path}")
    try:
        with replica.engine.connect() as connection:
            return connection.execute(text("SELECT person_id, household_id, source, section, status, answer "
                                           "FROM tour_dossier ORDER BY id")).all()
    finally:
        replica.dispose()


def test_prepare_takes_the_appointments_dossiers_along_and_only_theirs(store, families, tmp_path, caplog):
    path, report = prepare(store, families, tmp_path, ["keita", "trabelsi"])
    rows = stored(path)
    wanted = set(families["persons"]["keita"]) | set(families["persons"]["trabelsi"])
    assert {r.person_id for r in rows} == wanted  # every member asked; the third family's not
    assert {r.household_id for r in rows} == {families["households"]["keita"], families["households"]["trabelsi"]}
    assert {r.source for r in rows} == set(AGENCIES)  # each agency answered something
    assert {r.status for r in rows} <= {"ok", "not_found"} and "ok" in {r.status for r in rows}
    # The quotient familial the CAF gave the Keita family is on board, as the agency said it.
    qf = [json.loads(r.answer) for r in rows if r.section == "quotient_familial" and r.status == "ok"]
    assert qf and qf[0]["facts"][0]["$type"] == "quotient_familial" and qf[0]["facts"][0]["value"] > 0
    assert report.counts["appointments"] == 2 and report.counts["tour_dossier"] == len(rows)
    # The replica stays private with them in it.
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Each consultation is on the town's audit trail as a counter's is: the person, the sources,
    # the tour's purpose and the bus, by the account that ran the prepare; no name, no answer.
    with store.engine.connect() as connection:
        entries = connection.execute(text("SELECT agent, target_id, details FROM audit_entry "
                                          "WHERE action = 'dossier.consult' ORDER BY seq")).all()
        prepared = json.loads(connection.execute(text("SELECT details FROM audit_entry "
                                                      "WHERE action = 'tour.prepare'")).scalar_one())
        assert connection.execute(text("SELECT count(*) FROM tour_dossier")).scalar() == 0  # central keeps none
    assert {int(e.target_id) for e in entries} == wanted and {e.agent for e in entries} == {ADMIN}
    details = json.loads(entries[0].details)
    assert details["purpose"] == "rendez-vous de tournée" and details["bus"] == "bus-1"
    assert "api_particulier.quotient_familial" in details["sources"]
    assert prepared["appointments"] == 2 and prepared["dossier_answers"] == len(rows)
    assert audit.verify(store)[0] is None
    # Never logged: not a name, not a value.
    logged = caplog.text.upper()
    assert "KEITA" not in logged and "TRABELSI" not in logged and str(qf[0]["facts"][0]["value"]) not in logged


def test_without_appointments_nothing_is_asked_and_nothing_changes(store, families, tmp_path):
    path = tmp_path / "bus" / "replica.sqlite3"
    asked = []
    report = prepare_replica(store, f"sqlite:///{path}", bus="bus-1", dossiers=asked.append)
    assert stored(path) == [] and asked == [] and "appointments" not in report.counts
    with store.engine.connect() as connection:
        details = json.loads(connection.execute(text("SELECT details FROM audit_entry "
                                                     "WHERE action = 'tour.prepare'")).scalar_one())
        assert connection.execute(text("SELECT count(*) FROM audit_entry "
                                       "WHERE action = 'dossier.consult'")).scalar() == 0
    assert "appointments" not in details


def test_a_household_off_the_route_or_unknown_is_refused_and_nothing_is_written(store, families, tmp_path):
    away = families["households"]["away"]
    with pytest.raises(PrepareError) as refused:
        prepare(store, families, tmp_path, ["keita", "away"])
    assert str(refused.value) == (f"household(s) {away} do not live on the tour's route (--street): "
                                  "their dossiers stay at the town hall") and refused.value.usage
    path = tmp_path / "bus" / "replica.sqlite3"
    with pytest.raises(PrepareError, match=r"unknown household id\(s\) in the appointments: 987654$"):
        prepare_replica(store, f"sqlite:///{path}", bus="bus-1", appointments=[987654],
                        dossiers=dossiers(store, tmp_path))
    assert not (tmp_path / "bus").exists()  # refused before the directory is made
    with store.engine.connect() as connection:  # no agency was asked, nothing audited
        assert connection.execute(text("SELECT count(*) FROM audit_entry")).scalar() == 0


async def consulted(replica_path, person_id: int, today: date, tmp_path, offline: bool, **knobs):
    """The bus's service's dossier, as its composition builds it (a [mobile] runtime), on the replica."""
    replica = Store(f"sqlite:///{replica_path}")
    setup = replace(runtime(tmp_path, str(replica.url), today, **knobs), bus="bus-1", central_url="sqlite:///x")
    services = make_services(replica, setup)
    attach_dossier(services, setup, build_backends(setup), offline=lambda: offline)
    try:
        subject = services.dossier.subject(person_id)
        return {(a.provenance.source, a.provenance.section): a async for a in services.dossier.consult(subject)}
    finally:
        await services.aclose()


async def test_on_board_the_agencies_unreachable_the_dossier_shows_what_was_taken_along(store, families, tmp_path):
    path, _ = await asyncio.to_thread(prepare, store, families, tmp_path, ["keita", "trabelsi"])
    rows = stored(path)
    mother = families["persons"]["keita"][0]
    kept = {(r.source, r.section): r for r in rows if r.person_id == mother}
    assert kept
    today = date.today()  # the prepare stored them today
    seen = await consulted(path, mother, today, tmp_path, offline=True, down=True)
    for key, answer in seen.items():
        line = status_line(answer.provenance)
        if key in kept:  # as the agency gave it, marked as cached with the agency's date
            provenance = answer.provenance
            assert provenance.cached and not provenance.offline, key
            assert provenance.status.value == kept[key].status, key
            assert line.endswith(cached_at(provenance.fetched_at)) and "en cache, au " in line, key
            assert answer.facts or provenance.status is Status.NOT_FOUND, key
        else:  # not taken along (a section the agency had nothing for, or not applicable)
            assert "indisponible hors ligne" in line or answer.provenance.status is Status.NOT_APPLICABLE, key
    assert any(key in kept for key in seen)
    # The household without an appointment travelled, its dossier did not.
    third = families["persons"]["third"][0]
    for key, answer in (await consulted(path, third, today, tmp_path, offline=True, down=True)).items():
        assert not answer.provenance.cached, key
        assert "indisponible hors ligne" in status_line(answer.provenance) \
            or answer.provenance.status is Status.NOT_APPLICABLE, key
    # An agency that fails while the link is up: the answer taken along, still said as cached.
    failing = await consulted(path, mother, today, tmp_path, offline=False, error_status=503)
    assert all(failing[key].provenance.cached for key in kept if key in failing)
    # The agencies answering again: their live answers win.
    live = await consulted(path, mother, PREPARED_ON, tmp_path, offline=False)
    assert not any(a.provenance.cached for a in live.values())


async def test_answers_older_than_the_day_after_the_tour_are_never_shown(store, families, tmp_path):
    path, _ = await asyncio.to_thread(prepare, store, families, tmp_path, ["keita"])
    mother = families["persons"]["keita"][0]
    key = next((r.source, r.section) for r in stored(path) if r.person_id == mother)
    replica = Store(f"sqlite:///{path}")
    try:
        assert stored_answer(replica, mother, *key, date.today() + timedelta(days=1)) is not None
        assert stored_answer(replica, mother, *key, date.today() + timedelta(days=2)) is None
    finally:
        replica.dispose()
    late = await consulted(path, mother, date.today() + timedelta(days=2), tmp_path, offline=True, down=True)
    assert not any(a.provenance.cached for a in late.values())
    assert "indisponible hors ligne" in status_line(late[key].provenance)


def test_the_purge_deletes_them_and_leaves_no_trace_in_the_file(store, families, tmp_path):
    path, _ = prepare(store, families, tmp_path, ["keita", "trabelsi"])
    rows = stored(path)
    assert rows

    def files() -> bytes:  # the replica and its write-ahead log, as a thief would read them
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    assert b'"$type":"quotient_familial"' in files()  # only the stored answers hold the facts' tags
    replica = Store(f"sqlite:///{path}")
    try:
        with replica.engine.connect() as connection:
            households = connection.execute(text("SELECT count(*) FROM household")).scalar()
        assert purge(replica) == len(rows)
        assert purge(replica) == 0
        with replica.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM tour_dossier")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM household")).scalar() == households  # the rest stays
    finally:
        replica.dispose()
    # secure_delete: the answers' bytes are overwritten, not just unlinked from the table (this
    # build's SQLite has it on by default; the purge asks for it all the same, for those that do not).
    assert b'"$type":"quotient_familial"' not in files()


@pytest.mark.parametrize("content, said", [
    ("12\nabc\n", "line 2: 'abc' is not a household id"),
    ("12\n-4\n", "line 2: '-4' is not a household id"),
    ("0\n", "line 1: '0' is not a household id"),
    ("12 13\n", "line 1: '12 13' is not a household id"),
    ("١٢\n", "line 1: '\\\\u0661\\\\u0662' is not a household id"),  # Arabic-Indic digits: no id
    ("# only a comment\n\n", "no household id in it"),
    ("", "no household id in it"),
    ("99999999999999999999\n", "is not a household id"),
])
def test_bad_appointment_files_are_refused_line_by_line(content, said):
    with pytest.raises(AppointmentsError) as refused:
        parse_appointments(content, "rdv.txt")
    assert said in str(refused.value) and str(refused.value).startswith("rdv.txt: ")


def test_appointment_files_take_comments_blank_lines_and_repeats():
    assert parse_appointments("# the day's appointments\n12\n\n  40  # Mme X, 10 h\n12\n") == (12, 40)
