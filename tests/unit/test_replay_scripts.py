"""Replay scripts are validated strictly: a bad one names its step and key, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter.cli import main
from fixtures.replay import ReplayError, load_script, parse_size

REPLAYS = Path(__file__).resolve().parents[2] / "fixtures" / "replays"


def write(tmp_path: Path, body: str, name: str = "rejeu.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_every_shipped_replay_is_valid():
    scripts = sorted(REPLAYS.glob("*.toml"))
    assert len(scripts) >= 4
    for path in scripts:
        load_script(path)


@pytest.mark.parametrize("body, message", [
    ('[[step]]\npress = ["enter"]\n\n[[step]]\npresss = ["f3"]\n', "unknown key 'step.2.presss'"),
    ('[[step]]\npress = ["entrée!"]\n', "key 'step.1.press': 'entrée!' is not a key name"),
    ('[[step]]\nname = "a"\ntimeout = 5\n', "key 'step.1': timeout is the wait of wait_for"),
    ('[[step]]\n', "a step needs at least one of"),
    ('[[step]]\nname = "a"\n\n[[step]]\nname = "a"\n', "step name a given twice"),
    ('[[step]]\nname = "../evil"\n', "key 'step.1.name'"),
    ('size = "80 par 24"\n[[step]]\nname = "a"\n', "key 'size'"),
    ('scenario = "x"\n', "missing key 'step'"),
    ('[[step]]\nexpect = ""\n', "key 'step.1.expect'"),
])
def test_a_bad_script_names_the_step_and_key(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(ReplayError) as caught:
        load_script(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_yaml_scripts_too(tmp_path):
    path = write(tmp_path, "scenario: caf-en-panne\nstep:\n  - type: giraud anne\n    wait_for: GIRAUD\n"
                           "  - name: dossier\n    press: [f3]\n", "rejeu.yaml")
    script = load_script(path)
    assert script.scenario == "caf-en-panne" and script.step[1].press == ["f3"]
    with pytest.raises(ReplayError, match="unknown key 'step.1.typo'"):
        load_script(write(tmp_path, "step:\n  - typo: x\n", "bad.yaml"))


def test_sizes():
    assert parse_size("80x24") == (80, 24) and parse_size("120x40") == (120, 40)
    for bad in ("80", "10x5", "80x24x2", "x24"):
        with pytest.raises(ValueError):
            parse_size(bad)


@pytest.mark.parametrize("argv, message", [
    (["replay", "nowhere.toml"], "cannot read the script"),
    (["replay", "SCRIPT", "--size", "huge"], "--size"),
])
def test_counter_replay_refuses_with_status_2(tmp_path, capsys, argv, message):
    good = write(tmp_path, '[[step]]\nname = "a"\n')
    argv = [str(good) if a == "SCRIPT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_script_naming_an_unknown_scenario_is_refused(tmp_path, capsys):
    path = write(tmp_path, 'scenario = "inconnu"\n[[step]]\nname = "a"\n')
    assert main(["replay", str(path)]) == 2
    assert "Scénario inconnu : « inconnu »" in capsys.readouterr().err


def test_an_output_directory_that_cannot_be_written_is_said_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "fichier"
    blocker.write_text("", encoding="utf-8")
    script = write(tmp_path, '[[step]]\nname = "a"\n')
    assert main(["replay", str(script), "--out", str(blocker / "captures")]) == 1
    err = capsys.readouterr().err
    assert "counter replay : impossible d'écrire" in err and "Traceback" not in err
