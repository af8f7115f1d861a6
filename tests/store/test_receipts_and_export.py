"""`counter export registrations` on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import io
import json
import stat
from datetime import UTC, date, datetime

from pathlib import Path

import pytest
from sqlmodel import select

from counter.cli import export as cli_export
from counter.runtime import Runtime
from counter.services.export import COLUMNS, export_registrations, iter_registrations
from counter.store.models import Creche, HouseholdMember, Registration, School, Visit
from tests.factories import add_household, person

OLD = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
RECENT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)


@pytest.fixture
def registrations(store) -> dict[str, int]:
    household = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14), nir="284054599912345"), "parent"),
        (person("GIRAUD", "Léa, Œlia", (2023, 11, 25)), "child"),
        (person("NGUYỄN", "Thị", (2024, 6)), "child"),
    ])
    with store.write() as session:
        members = session.exec(select(HouseholdMember).where(HouseholdMember.household_id == household)
                               .order_by(HouseholdMember.id)).all()
        nadia, lea, thi = (m.person_id for m in members)
        school = School(uai="0459999A", name="École maternelle Jules-Ferry", kind="maternelle")
        creche = Creche(code="CR-LUC", name="Les Lucioles", capacity=40)
        session.add_all([school, creche])
        session.flush()
        visit = Visit(code="RCP-7K3M-Q2XD", household_id=household, person_id=nadia, agent_login="agent",
                      state="confirmed", confirmed_at=RECENT)
        session.add(visit)
        session.flush()
        rows = {
            "old": Registration(visit_id=visit.id, person_id=nadia, kind="library", state="registered",
                                delivery="delivered", created_at=OLD),
            "school": Registration(visit_id=visit.id, person_id=lea, kind="school", state="waiting_list",
                                   school_year=2027, school_id=school.id, level="PS", created_at=RECENT),
            "creche": Registration(visit_id=visit.id, person_id=thi, kind="creche", state="waiting_list",
                                   creche_id=creche.id, rank=4, created_at=LATER, cancelled_at=LATER,
                                   cancelled_by="agent", cancel_reason="doublon"),
            "unborn": Registration(visit_id=visit.id, person_id=None, kind="creche", state="registered",
                                   creche_id=creche.id, created_at=LATER),
        }
        session.add_all(rows.values())
        session.flush()
        return {name: row.id for name, row in rows.items()}


def test_since_filters_and_rows_carry_names_but_no_nir(store, registrations):
    rows = list(iter_registrations(store, date(2026, 11, 1)))
    assert [r["registration_id"] for r in rows] == [registrations[k] for k in ("school", "creche", "unborn")]
    assert all(tuple(r) == COLUMNS for r in rows)
    school, creche, unborn = rows
    assert school == school | {
        "created_at": "2026-11-20T14:30:00+00:00", "visit_code": "RCP-7K3M-Q2XD", "kind": "school",
        "state": "waiting_list", "birth_name": "GIRAUD", "given_names": "Léa, Œlia", "birth_date": "2023-11-25",
        "school_year": 2027, "school_uai": "0459999A", "level": "PS", "creche_code": None, "rank": None,
        "rank_confirmed": None, "delivery": "pending", "cancelled_at": None,
    }
    assert creche["birth_date"] == "2024-06" and creche["birth_name"] == "NGUYỄN"
    assert creche["creche_code"] == "CR-LUC" and creche["rank"] == 4 and creche["rank_confirmed"] is False
    assert creche["cancelled_at"] == "2026-11-24T09:15:00+00:00"
    assert unborn["person_id"] is None and unborn["birth_name"] is None
    assert len(list(iter_registrations(store, date(2026, 1, 1)))) == 4
    assert list(iter_registrations(store, date(2026, 11, 26))) == []


def test_csv_and_json_parse_back(store, registrations):
    out = io.StringIO()
    assert export_registrations(store, date(2026, 11, 1), "csv", out) == 3
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(parsed[0]) == COLUMNS
    assert [r["registration_id"] for r in parsed] == [str(registrations[k]) for k in ("school", "creche", "unborn")]
    assert parsed[0]["given_names"] == "Léa, Œlia" and parsed[2]["person_id"] == ""
    assert "284054599912345" not in out.getvalue() and "nir" not in out.getvalue().lower()

    out = io.StringIO()
    assert export_registrations(store, date(2026, 11, 1), "json", out) == 3
    data = json.loads(out.getvalue())
    assert [r["registration_id"] for r in data] == [registrations[k] for k in ("school", "creche", "unborn")]
    assert data[1]["rank"] == 4 and data[2]["person_id"] is None

    out = io.StringIO()
    assert export_registrations(store, date(2030, 1, 1), "json", out) == 0
    assert json.loads(out.getvalue()) == []


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="counter")
    cli_export.register(parser.add_subparsers(dest="command"))
    return parser


def _runtime(database_url, tmp_path) -> Runtime:
    from counter.services.agents import AgentService
    from counter.store.engine import Store

    from counter.store import migrate

    if database_url.startswith("sqlite:///") and not Path(database_url[len("sqlite:///"):]).exists():
        return Runtime(mode="production", data_dir=tmp_path, database_url=database_url, agent_login="admin")
    store = Store(database_url)
    # The administrator running the export is a supervisor (on a migrated database).
    if migrate.current_revision(store) == migrate.HEAD and AgentService(store).get("admin") is None:
        AgentService(store).add("admin", "supervisor")
    store.dispose()
    return Runtime(mode="production", data_dir=tmp_path, database_url=database_url, agent_login="admin")


def test_cli_writes_csv_to_stdout(store, database_url, registrations, tmp_path, capsys):
    args = _parser().parse_args(["export", "registrations", "--since", "2026-11-21", "--format", "csv"])
    assert cli_export.run(_runtime(database_url, tmp_path), args) == 0
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["registration_id"]) for r in parsed] == [registrations["creche"], registrations["unborn"]]


def test_cli_writes_json_to_a_private_file(store, database_url, registrations, tmp_path, capsys):
    target = tmp_path / "export.json"
    args = _parser().parse_args(["export", "registrations", "--since", "2026-11-01", "--format", "json",
                                 "--output", str(target)])
    assert cli_export.run(_runtime(database_url, tmp_path), args) == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "3 registration(s) written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == []


@pytest.mark.parametrize("bad", ["2026-13-01", "25/11/2026", "yesterday", ""])
def test_cli_bad_date_exits_2(tmp_path, capsys, bad):
    args = _parser().parse_args(["export", "registrations", "--since", bad])
    assert cli_export.run(_runtime(f"sqlite:///{tmp_path / 'never.sqlite3'}", tmp_path), args) == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "never.sqlite3").exists()  # refused before touching the database


def test_cli_refuses_a_database_behind_the_schema(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    args = _parser().parse_args(["export", "registrations", "--since", "2026-11-01"])
    assert cli_export.run(_runtime(url, tmp_path), args) == 1
    assert "counter db upgrade" in capsys.readouterr().err
