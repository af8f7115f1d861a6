"""`counter doctor` checks the library new cards belong to against Koha's own list
(issue 11, point 5), on the emulated Koha of training (a warning there: training
never needs it; production fails, tests/e2e/test_served_agencies.py)."""

from __future__ import annotations

import pytest

from counter.cli import main

KOHA_SAYS = "new cards go to BEL-CTR (Médiathèque Jacques-Prévert (centre-ville)), set by library_id"


def doctor(tmp_path, capsys, koha: str | None) -> tuple[int, str]:
    """`counter doctor` on a training configuration whose Koha table is ``koha`` (None: no file); its line."""
    argv = ["doctor"]
    if koha is not None:
        path = tmp_path / "counter.toml"
        path.write_text(f'mode = "training"\n[backends.koha]\nkind = "koha"\n{koha}', encoding="utf-8")
        argv = ["--config", str(path), "doctor"]
    status = main(argv)
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("backend koha library")]
    return status, " ".join(line.split())


def test_training_s_koha_has_the_library_it_names(tmp_path, capsys):
    status, line = doctor(tmp_path, capsys, None)
    assert status == 0 and line == f"backend koha library [ ok] {KOHA_SAYS}"


@pytest.mark.parametrize(("koha", "says"), [
    ('library_id = "ANNEXE"\n',
     "library_id 'ANNEXE' is not one of Koha's libraries (BEL-CTR, BEL-LOI): new cards would be refused"),
    ("", "Koha has 2 libraries (BEL-CTR, BEL-LOI): set library_id in [backends.koha] to the one new cards belong to"),
    ('library_id = "BEL-CTR"\n[emulators.koha]\nerror_status = 403\n',
     "Koha refuses the list of libraries: the API user needs the 'catalogue' permission (and the right password)"),
    ('library_id = "BEL-CTR"\n[emulators.koha]\nerror_status = 500\n', "cannot read Koha's libraries: unavailable"),
])
def test_a_library_koha_does_not_have_or_cannot_list_is_said(tmp_path, capsys, koha, says):
    status, line = doctor(tmp_path, capsys, koha)
    assert line == f"backend koha library [warn] {says}"
