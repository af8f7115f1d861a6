"""Every shipped replay, headless through `counter replay`, as CI and trainers run them.

Each scenario has a replay asserting that its situation shows (the CAF section
says the source did not answer, the crèche rank counts the scenario's waiting
list…): tests/unit/test_scenarios.py checks none is left without one.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from counter.cli import main

REPLAYS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "replays").glob("*.toml"))


@pytest.fixture
def trainer_home(isolated_environment, town_database):
    """A trainer's data directory whose pristine replay town is the session's town (built once)."""
    base = isolated_environment / "training" / "replay-base.sqlite3"
    base.parent.mkdir(parents=True)
    shutil.copyfile(town_database, base)
    return isolated_environment


@pytest.mark.parametrize("script", REPLAYS, ids=[p.stem for p in REPLAYS])
def test_shipped_replay(script, trainer_home, tmp_path, capsys):
    out = tmp_path / "captures"
    code = main(["replay", str(script), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    named = [s["name"] for s in tomllib.loads(script.read_text(encoding="utf-8"))["step"] if "name" in s]
    assert sorted(p.stem for p in out.glob("*.svg")) == sorted(named)
    for path in out.glob("*.svg"):
        assert path.read_text(encoding="utf-8").startswith("<svg")
    assert "Rejeu réussi" in captured.out
    # The trainees' own database was not created nor touched: the replay played on a copy.
    assert not (trainer_home / "training" / "counter.sqlite3").exists()


FAILING = """
scenario = "caf-en-panne"

[[step]]
name = "recherche"
type = "giraud anne"
wait_for = "01/12/1988"

[[step]]
name = "dossier"
press = ["f3"]
wait_for = "Quotient familial (CAF/MSA)"
expect = ["✓ CAF · a répondu"]

[[step]]
name = "jamais"
press = ["escape"]
"""


def test_a_failed_expectation_names_its_step_and_exits_non_zero(trainer_home, tmp_path, capsys):
    script = tmp_path / "echoue.toml"
    script.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "captures"
    assert main(["replay", str(script), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Échec à l'étape 2 « dossier » : absent de l'écran : « ✓ CAF · a répondu »" in err
    assert "Quotient familial (CAF/MSA)" in err  # the screen at that moment, to see why
    # Steps before the failure have their screenshot, the failure one too, none after it.
    assert sorted(p.name for p in out.glob("*.svg")) == ["echec-etape-2.svg", "recherche.svg"]


def test_a_text_that_never_appears_fails_at_the_steps_timeout(trainer_home, tmp_path, capsys):
    script = tmp_path / "attente.toml"
    script.write_text('[[step]]\ntype = "giraud anne"\nwait_for = "Personne introuvable ici"\ntimeout = 1\n',
                      encoding="utf-8")
    assert main(["replay", str(script), "--size", "100x30"]) == 1
    assert "Échec à l'étape 1 : « Personne introuvable ici » n'est pas apparu à l'écran en 1 s." \
        in capsys.readouterr().err


def test_a_text_that_must_not_show_but_does_fails(trainer_home, tmp_path, capsys):
    script = tmp_path / "absent.toml"
    script.write_text('[[step]]\nname = "bandeau"\nexpect_not = ["FORMATION"]\n', encoding="utf-8")
    assert main(["replay", str(script)]) == 1
    assert "« bandeau » : à l'écran alors qu'il ne devait pas y être : « FORMATION »" in capsys.readouterr().err
