"""The statistics (issue 16) on SQLite and PostgreSQL: the aggregates over the generated
month agree with the database counted another way; times hand-made give exact medians
and p90; an agent gets their own figures whatever a hand-made request asks; the CLI's
export and the PDF say what the screen says; the dossier records each agency answer."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, text

from counter.domain import statistics as st
from counter.domain.statistics import StatsQuery
from counter.services.audit import Actor, Forbidden
from counter.services.statistics import StatisticsError, compute
from counter.store.models import Visit
from fixtures.activity import AGENTS, MONTH, load
from tests.activity import utc  # noqa: F401 — fixture
from tests.serving import store_service

NOVEMBER = StatsQuery(date(2026, 11, 1), date(2026, 11, 30))
SUPERVISOR = Actor("chef", "supervisor")
TODAY = date(2026, 11, 25)


pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture
def month(store):
    return load(store, MONTH)


def scalar(store, sql: str, **params):
    with store.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def test_the_month_s_figures_agree_with_the_database_counted_another_way(store, month):
    stats = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    assert stats.scope == st.ALL
    assert stats.visits == month["visits"] == scalar(store, "SELECT count(*) FROM visit WHERE ended_at IS NOT NULL")
    assert 2000 < stats.visits < 5000  # "a few thousand"
    assert st.total(stats.by_hour) == st.total(stats.by_weekday) == stats.visits
    assert st.total(stats.outcomes) == stats.visits
    assert sum(w.count for w in stats.handling) == stats.handling_all.count == stats.visits
    assert stats.waiting_all.count == month["tickets"]
    for reason in stats.reasons:
        assert reason.count == scalar(store, "SELECT count(*) FROM visit WHERE ',' || reasons || ',' LIKE :p",
                                      p=f"%,{reason.key},%")
    assert sum(r.count for r in stats.registrations) == month["registrations"]
    assert {r.kind for r in stats.registrations} == {"school", "creche", "library", "alsh"}
    assert {r.state for r in stats.registrations} >= {"registered", "waiting_list", "cancelled"}
    assert sum(a.calls + a.cached for a in stats.agencies) == month["agency_calls"]
    assert sum(a.calls for a in stats.agency_hours) == sum(a.calls for a in stats.agencies)
    assert all(0 < a.rate < 1 for a in stats.agencies)  # some failures
    assert stats.outbox_pending == month["outbox"] > 0
    assert stats.agents == tuple(sorted(AGENTS))
    # The arrival curve: a morning and an early-afternoon peak; Mondays and Wednesdays busier.
    hours = {c.key: c.count for c in stats.by_hour}
    assert hours["10"] > hours["12"] < hours["14"] > hours["17"]
    days = [c.count for c in stats.by_weekday]
    assert days[0] > days[1] < days[2] > days[3]


def _visit(created: datetime, minutes_: float, wait: float | None, agent: str = "a1", site: str = "mairie",
           reasons: str = "qf", outcome: str = "done") -> dict:
    return {"agent_login": agent, "state": "confirmed", "draft": "{}", "created_at": created, "updated_at": created,
            "site": site, "arrived_at": None if wait is None else created - timedelta(minutes=wait),
            "ended_at": created + timedelta(minutes=minutes_), "reasons": reasons, "outcome": outcome}


def test_medians_and_p90_of_hand_made_visits(store):
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    rows = [_visit(monday + timedelta(minutes=i), minutes_=m, wait=w)
            for i, (m, w) in enumerate([(10, 0), (20, 10), (30, 20), (40, 30), (50, None)])]
    rows.append(_visit(monday + timedelta(days=7), 5, None, reasons="caf,autre", outcome="redirected"))
    rows.append({**_visit(monday, 99, 99), "ended_at": None})  # not ended: not counted
    with store.engine.begin() as connection:
        connection.execute(insert(Visit.__table__), rows)
    stats = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    assert stats.visits == 6
    first_week = next(w for w in stats.handling if w.week == date(2026, 11, 2))
    assert (first_week.count, first_week.median, first_week.p90) == (5, 30 * 60, 46 * 60)
    waiting = next(w for w in stats.waiting if w.week == date(2026, 11, 2))
    assert (waiting.count, waiting.median, waiting.p90) == (4, 15 * 60, 27 * 60)
    assert {c.key: c.count for c in stats.reasons if c.count} == {"qf": 5, "caf": 1, "autre": 1}
    assert {c.key: c.count for c in stats.by_hour if c.count} == {"09": 6}
    assert [c.count for c in stats.by_weekday] == [6, 0, 0, 0, 0, 0]
    assert {c.key: c.count for c in stats.outcomes if c.count} == {"done": 5, "redirected": 1}


def test_an_agent_gets_their_own_figures_and_nothing_of_the_site_s(store, month):
    mine = compute(store, Actor(AGENTS[0], "agent"), StatsQuery(NOVEMBER.since, NOVEMBER.until, agent=AGENTS[1]),
                   today=TODAY)
    assert mine.scope == st.OWN and mine.query.agent == AGENTS[0]
    assert mine.visits == scalar(store, "SELECT count(*) FROM visit WHERE agent_login = :a AND ended_at IS NOT NULL",
                                 a=AGENTS[0])
    assert mine.agencies == mine.agency_hours == () and mine.outbox_pending is None and mine.agents == ()
    with pytest.raises(Forbidden):
        compute(store, Actor("nobody", ""), NOVEMBER, today=TODAY)
    with pytest.raises(StatisticsError):
        compute(store, SUPERVISOR, StatsQuery(date(2026, 12, 1), date(2026, 11, 1)))


def serving(store, tmp_path):
    return store_service(store, tmp_path, AGENTS[0], "chef", TODAY)


def test_a_hand_made_request_for_everyone_s_figures_gets_the_agent_s_own(store, month, tmp_path):
    body = {"query": {"since": "2026-11-01", "until": "2026-11-30", "site": None, "agent": AGENTS[1]},
            "export": False, "login": "chef", "role": "supervisor"}
    with serving(store, tmp_path) as (socket_path, peer):
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)), base_url="http://counter") as client:
            answer = client.post("/v1/statistics.compute", content=json.dumps(body),
                                 headers={"content-type": "application/json", "X-Counter-Agent": "chef"})
            assert answer.status_code == 200, answer.text
            got = answer.json()
            assert got["scope"] == "own" and got["query"]["agent"] == AGENTS[0]
            assert got["agencies"] == [] and got["outbox_pending"] is None and got["agents"] == []
            assert got["visits"] == scalar(store, "SELECT count(*) FROM visit WHERE agent_login = :a", a=AGENTS[0])
            assert AGENTS[1] not in answer.text
            peer["login"] = "chef"
            everyone = client.post("/v1/statistics.compute", content=json.dumps(body),
                                   headers={"content-type": "application/json"}).json()
            assert everyone["scope"] == "all" and everyone["query"]["agent"] == AGENTS[1]


def _config(tmp_path, store) -> Path:
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{store.url.render_as_string(False)}"\n',
                      encoding="utf-8")
    return config


def test_the_export_says_what_the_screen_s_figures_say(store, month, tmp_path, capsys):
    from counter.cli import main
    from fixtures.agents import ensure_agent

    ensure_agent(store, "chef", "supervisor")
    config = _config(tmp_path, store)
    screen = compute(store, SUPERVISOR, NOVEMBER, today=date.today())  # what the screen's call answers
    capsys.readouterr()
    assert main(["--config", str(config), "stats", "--since", "2026-11-01", "--until", "2026-11-30",
                 "--format", "json"], agent_login="chef") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported == [{"figure": r.figure, "key": r.key, "label": r.label, "value": r.value}
                        for r in st.rows(screen)]
    totals = {(r["figure"], r["key"]): r["value"] for r in exported}
    assert totals[("visits", "total")] == screen.visits == month["visits"]
    assert main(["--config", str(config), "stats", "--since", "2026-11-01", "--until", "2026-11-30",
                 "--site", "mairie"], agent_login="chef") == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_site = compute(store, SUPERVISOR, StatsQuery(NOVEMBER.since, NOVEMBER.until, site="mairie"))
    assert next(r for r in table if r["figure"] == "visits")["value"] == str(by_site.visits)
    assert 0 < by_site.visits < screen.visits


@pytest.mark.parametrize("argv, words", [
    (["--since", "2026-13-01", "--until", "2026-11-30"], "invalid --since date"),
    (["--since", "2026-11-30", "--until", "2026-11-01"], "--until is before --since"),
    (["--since", "2020-01-01", "--until", "2026-11-01"], "too long"),
    (["--pdf", "x.pdf"], "--pdf needs --month"),
    (["--pdf", "x.pdf", "--month", "2026-13"], "invalid --month"),
    (["--month", "2026-11"], "--month goes with --pdf"),
    ([], "give --since and --until"),
])
def test_bad_arguments_exit_2_with_one_line(store, tmp_path, capsys, argv, words):
    from counter.cli import main

    config = _config(tmp_path, store)
    assert main(["--config", str(config), "stats", *argv], agent_login="chef") == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_agent_exporting_directly_gets_their_own_and_an_unknown_account_is_refused(store, month, tmp_path,
                                                                                       capsys):
    from counter.cli import main
    from fixtures.agents import ensure_agent

    ensure_agent(store, AGENTS[2], "agent")
    config = _config(tmp_path, store)
    assert main(["--config", str(config), "stats", "--since", "2026-11-01", "--until", "2026-11-30", "--agent",
                 AGENTS[3], "--format", "json"], agent_login=AGENTS[2]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"figure": "filter", "key": "agent", "label": "", "value": AGENTS[2]} in rows
    assert not any(r["figure"].startswith("agency") or r["figure"] == "outbox_pending" for r in rows)
    assert main(["--config", str(config), "stats", "--since", "2026-11-01", "--until", "2026-11-30"],
                agent_login="stranger") == 2
    assert "refused" in capsys.readouterr().err


def test_the_monthly_pdf_reads_back_with_the_screen_s_figures(store, month, tmp_path, capsys):
    from pypdf import PdfReader

    from counter.cli import main
    from fixtures.agents import ensure_agent

    ensure_agent(store, "chef", "supervisor")
    config = _config(tmp_path, store)
    pdf = tmp_path / "novembre.pdf"
    assert main(["--config", str(config), "stats", "--pdf", str(pdf), "--month", "2026-11"], agent_login="chef") == 0
    assert pdf.stat().st_mode & 0o777 == 0o640
    words = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    stats = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    assert "Statistiques du guichet — novembre 2026" in words
    assert "du 01/11/2026 au 30/11/2026" in words
    assert f"Visites : {stats.visits:,}".replace(",", " ") in words.replace("\u202f", " ")
    flat = words.replace("\u202f", " ")
    for chart in st.charts(stats):
        assert chart.title in flat
    for reason in stats.reasons:
        assert f"{reason.label} {reason.count:,}".replace(",", " ") in flat
    assert "Aucun nom" in flat or "aucun nom" in flat
    for agent in AGENTS:  # the report is everyone's: aggregates, no login
        assert agent not in flat


async def test_the_dossier_records_each_agency_answer_and_no_person(store):
    from counter import registry
    from counter.backend import BackendContext, Identity, Subject
    from counter.domain.dates import BirthDate
    from counter.services.dossier import DossierService
    from counter.settings import EmulatorKnobs
    from fixtures.emulators.plugin import emulated_transport

    plugin = registry.load("koha")
    backend = plugin.create(BackendContext("koha", plugin.Settings(kind="koha", timeout=3.0), None,
                                           emulated_transport("koha", EmulatorKnobs()), True))
    subject = Subject(7, Identity("GIRAUD", ("Anne",), "F", BirthDate(1988, 12, 1)), TODAY, "parent")
    service = DossierService(store, [backend], clock=None, site="annexe-nord")
    answers = [a async for a in service.consult(subject)]
    await service.calls_written()
    await service.aclose()
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM agency_call")).mappings().all()
    assert len(rows) == len(answers) >= 1
    assert {r["source"] for r in rows} == {"koha"} and {r["site"] for r in rows} == {"annexe-nord"}
    assert all(r["elapsed_ms"] >= 0 for r in rows)
    assert set(rows[0]) == {"id", "at", "site", "source", "section", "status", "elapsed_ms", "cached"}
    assert "GIRAUD" not in repr(rows)


def test_counter_stats_through_the_service_follows_the_peer_s_role(store, month, tmp_path, capsys):
    from counter.cli import main

    with serving(store, tmp_path) as (socket_path, peer):
        capsys.readouterr()
        args = ["--connect", str(socket_path), "stats", "--since", "2026-11-01", "--until", "2026-11-30",
                "--agent", AGENTS[1], "--format", "json"]
        assert main(args) == 0  # the peer is AGENTS[0], an agent
        own = {(r["figure"], r["key"]): r["value"] for r in json.loads(capsys.readouterr().out)}
        assert own[("filter", "agent")] == AGENTS[0]
        peer["login"] = "chef"
        assert main(args) == 0
        theirs = {(r["figure"], r["key"]): r["value"] for r in json.loads(capsys.readouterr().out)}
        assert theirs[("filter", "agent")] == AGENTS[1] and ("outbox_pending", "total") in theirs
        assert main(["--connect", str(socket_path), "stats", "--since", "2026-11-31", "--until", "2026-12-01"]) == 2
        peer["login"] = "stranger"
        assert main(args) == 2
        assert "refused" in capsys.readouterr().err
    with store.engine.connect() as connection:
        entries = [json.loads(d) for (d,) in connection.execute(
            text("SELECT details FROM audit_entry WHERE action = 'statistics.export'")).all()]
    assert {"since": "2026-11-01", "until": "2026-11-30", "site": "", "agent": AGENTS[0]} in entries
