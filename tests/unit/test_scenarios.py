"""Training scenarios: the shipped files, strict validation, `counter train`."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter.cli import main
from fixtures.scenarios import (
    AGENCIES,
    SCENARIO_DIR,
    ScenarioError,
    available,
    load,
    load_file,
    reflowed,
)
from tests.e2e.test_serve import private_home  # noqa: F401  (the fixture: a private service on a copy of the town)

REPLAYS = Path(__file__).resolve().parents[2] / "fixtures" / "replays"
REQUIRED = {  # the situations issue #7 asks for, by the file that ships each
    "matinee-ordinaire", "caf-en-panne", "france-travail-lent", "homonymes-et-fautes", "creche-complete",
    "parents-separes", "carte-bibliotheque-demandeur-emploi", "erreurs-api-staging",
}


def test_the_eight_situations_are_shipped_and_valid():
    assert REQUIRED <= set(available())
    for name in available():
        scenario = load(name)
        assert scenario.title and scenario.description and scenario.name == name
        assert len(f"FORMATION — {scenario.title} (F1)") <= 78  # fits the banner at 80 columns


def test_every_shipped_scenario_is_played_by_a_shipped_replay():
    """The replays are what proves each scenario really produces its situation (CI runs them)."""
    import tomllib

    played = {tomllib.loads(p.read_text(encoding="utf-8")).get("scenario") for p in REPLAYS.glob("*.toml")}
    assert set(available()) <= played


def test_scenarios_set_what_they_say():
    assert load("caf-en-panne").agencies["caf"].down
    assert load("france-travail-lent").agencies["france_travail"].latency_ms >= 3000
    assert load("creche-complete").creche_waiting_list == 600
    assert load("creche-complete").day.isoformat() == "2027-03-15"
    caf = load("caf-en-panne")
    assert [prefixes for prefixes, _ in caf.routes("api_particulier")] == [AGENCIES["caf"][1]]
    assert caf.routes("koha") == []


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mon-scenario.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = 'title = "T"\ndescription = "D"\ndate = 2026-11-25\n'


@pytest.mark.parametrize("body, message", [
    (GOOD + "colour = 1\n", "unknown key 'colour'"),
    ('title = "T"\ndate = 2026-11-25\n', "missing key 'description'"),
    (GOOD.replace("2026-11-25", "2030-01-01"), "key 'date': must be within the school year"),
    (GOOD.replace("2026-11-25", '"demain"'), "key 'date'"),
    (GOOD + "[agencies.caf]\ndown = 1\n", "key 'agencies.caf.down'"),
    (GOOD + "[agencies.cnaf]\ndown = true\n", "unknown key 'agencies.cnaf'"),
    (GOOD + "[agencies.library]\nlatency_ms = -5\n", "key 'agencies.library.latency_ms'"),
    (GOOD + "[town]\ncreche_waiting_list = 99999\n", "key 'town.creche_waiting_list'"),
    (GOOD.replace('"T"', '"' + "x" * 61 + '"'), "key 'title'"),
    (GOOD.replace('"T"', '"\\u001b[31mT"'), "key 'title': control or invisible characters"),
    ("title = \n", "invalid TOML"),
])
def test_a_bad_scenario_names_the_key_and_the_file(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as caught:
        load_file(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_bad_scenario_file_stops_counter_train_with_status_2(tmp_path, capsys):
    path = write(tmp_path, GOOD + "[agencies.caf]\nslow = true\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'agencies.caf.slow'" in err and str(path) in err and "Traceback" not in err


def test_an_unknown_scenario_lists_the_available_ones(capsys):
    assert main(["train", "panne-totale"]) == 2
    err = capsys.readouterr().err
    assert "Scénario inconnu : « panne-totale »" in err
    assert all(name in err for name in available())


def test_train_list_names_and_french_titles(capsys):
    assert main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    for name in available():
        assert name in out and load(name).title in out


@pytest.mark.parametrize("argv", [["train"], ["train", "--list", "--reset"]])
def test_train_needs_one_of_scenario_list_reset(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "counter train" in capsys.readouterr().err


def test_train_refuses_a_production_configuration(tmp_path, capsys):
    config = tmp_path / "counter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/c.db"\n', encoding="utf-8")
    assert main(["--config", str(config), "train", "caf-en-panne"]) == 2
    assert "réservé au mode formation" in capsys.readouterr().err


def test_train_starts_a_terminal_on_a_service_living_the_scenario(private_home, monkeypatch):
    """`counter train NAME`: a private service lives the scenario (its day is today there),
    and the terminal is its client."""
    import counter.terminal
    from screens.app import CounterApp

    seen = {}
    monkeypatch.setattr(counter.terminal, "has_terminal", lambda: True)
    monkeypatch.setattr(CounterApp, "run", lambda self: seen.setdefault("app", self))
    assert main(["train", "creche-complete"]) == 0
    app = seen["app"]
    assert app.terminal.training
    client = app.terminal.connect()
    try:
        session = client.session()
    finally:
        client.close()
    assert session.training and session.scenario.name == "creche-complete"
    assert session.today.isoformat() == "2027-03-15"


def test_descriptions_are_reflowed_into_paragraphs():
    text = "Une ligne\ncoupée en deux.\n\nDeux cas :\n  • le premier ;\n  • le second."
    assert reflowed(text) == "Une ligne coupée en deux.\n\nDeux cas :\n• le premier ;\n• le second."


def test_the_scenario_folder_holds_only_scenarios():
    for path in SCENARIO_DIR.glob("*.toml"):
        load_file(path)


def test_train_bus_itinerant_runs_a_private_service_that_is_the_bus(private_home, monkeypatch):
    """`counter train bus-itinerant`: the private service is the bus, offline on its replica
    of the training town; the trainer's switch restores the link."""
    import time

    import counter.terminal
    from screens.app import CounterApp

    seen = {}
    monkeypatch.setattr(counter.terminal, "has_terminal", lambda: True)
    monkeypatch.setattr(CounterApp, "run", lambda self: seen.setdefault("app", self))
    assert main(["train", "bus-itinerant"]) == 0
    client = seen["app"].terminal.connect()
    try:
        session = client.session()
        assert session.bus == "bus-1" and session.link_switch and session.scenario.name == "bus-itinerant"
        deadline = time.monotonic() + 30
        while session.offline_since is None and time.monotonic() < deadline:  # its first probe
            time.sleep(0.05)
            session = client.session()
        assert session.offline_since is not None
        client.switch_link(True)  # probed at once
        assert client.session().offline_since is None
    finally:
        client.close()
    assert (private_home / "training" / "bus" / "bus-itinerant-bus-1.sqlite3").is_file()
