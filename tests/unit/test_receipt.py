"""The récépissé as text, its tracking code, its files and its printing."""

from __future__ import annotations

import os
import random
import stat
from datetime import date
from pathlib import Path

import pytest

from counter.domain.receipt import (
    CODE_ALPHABET,
    TRAINING_MARK,
    Receipt,
    ReceiptLine,
    is_code,
    new_code,
    render_text,
)
from counter.domain.visits import STATE_LABELS, RegState
from counter.services.receipts import FONT_CANDIDATES, find_font, print_receipt, render_pdf, save

SCHOOL = ReceiptLine(
    kind="school", who="Léa GIRAUD (née le 25/11/2018)", what="École maternelle Jules-Ferry — MS, 2027-2028",
    state=RegState.WAITING_LIST.value, state_label=STATE_LABELS[RegState.WAITING_LIST], detail="rang 4",
    prices=("Cantine : 4 repas × 3,40 € = 13,60 €/semaine",),
    papers=(("justificatif de domicile", "la CAF"), ("carnet de santé (vaccinations)", None)),
)
DEROGATION = ReceiptLine(
    kind="school", who="Hugo GIRAUD (né le 02/03/2021)", what="École maternelle Arc-en-Ciel — PS, 2027-2028",
    state=RegState.DEROGATION_REQUESTED.value, state_label=STATE_LABELS[RegState.DEROGATION_REQUESTED],
    detail="motif : rapprochement fratrie",
    papers=(("justificatif de domicile", "CAF"), ("courrier de demande de dérogation", None)),
)
CRECHE = ReceiptLine(
    kind="creche", who="Enfant à naître (naissance prévue le 20/12/2026)",
    what="Crèche : 1. Les Lucioles, 2. Arc-en-Ciel — entrée le 04/01/2027, 4 j/sem., 32 h",
    state=RegState.REGISTERED.value, state_label=STATE_LABELS[RegState.REGISTERED],
    prices=("Tarif horaire : 1,27 € (taux d'effort 0,0619 %)",),
)
LIBRARY = ReceiptLine(
    kind="library", who="Nadia GIRAUD (née le 14/05/1984)", what="Carte de bibliothèque ADULTE",
    state=RegState.TO_DELIVER.value, state_label="à transmettre à la médiathèque",
)


def receipt(*lines: ReceiptLine, training: bool = False, notes: tuple[str, ...] = (), **extra) -> Receipt:
    values = dict(code="RCP-7K3M-Q2XD", issued_on=date(2026, 11, 25), town="Bellerive-sur-Loire",
                  agent="Martine DUPONT", household="Foyer F-00441 — 86 rue des Sablons, 45999 Bellerive-sur-Loire",
                  lines=lines or (SCHOOL, DEROGATION, CRECHE, LIBRARY), notes=notes, training=training)
    values.update(extra)
    return Receipt(**values)


# -- text ----------------------------------------------------------------------------


def test_text_has_header_code_date_household_and_numbered_requests():
    text = render_text(receipt())
    assert "Bellerive-sur-Loire" in text.splitlines()[0]
    assert "RÉCÉPISSÉ DE DEMANDES" in text
    assert "Code de suivi : RCP-7K3M-Q2XD" in text
    assert "25/11/2026" in text
    assert "Foyer F-00441 — 86 rue des Sablons, 45999 Bellerive-sur-Loire" in text
    assert "1. École — Léa GIRAUD (née le 25/11/2018)" in text
    assert "2. École — Hugo GIRAUD" in text
    assert "3. Crèche — Enfant à naître (naissance prévue le 20/12/2026)" in text
    assert "4. Bibliothèque — Nadia GIRAUD" in text
    assert "Carte de bibliothèque ADULTE" in text
    assert "FORMATION" not in text


def test_text_states_ranks_details_and_prices():
    text = render_text(receipt())
    assert "État : sur liste d'attente — rang 4" in text
    assert "État : dérogation demandée — motif : rapprochement fratrie" in text
    assert "État : inscrit(e)\n" in text
    assert "État : à transmettre à la médiathèque\n" in text
    assert "Cantine : 4 repas × 3,40 € = 13,60 €/semaine" in text
    assert "Tarif horaire : 1,27 €" in text


def test_papers_to_bring_are_listed_apart_from_those_an_agency_confirmed():
    text = render_text(receipt())
    to_bring = text.split("Pièces à fournir", 1)[1]
    assert "- carnet de santé (vaccinations) (demande 1)" in to_bring
    assert "- courrier de demande de dérogation (demande 2)" in to_bring
    # Confirmed once, by "la CAF" or bare "CAF": one line, never among the papers to bring.
    assert to_bring.count("Déjà confirmé par la CAF : justificatif de domicile\n") == 1
    assert "- justificatif de domicile" not in to_bring


def test_single_request_and_nothing_to_bring():
    text = render_text(receipt(LIBRARY))
    assert "Demandes enregistrées (1)" in text
    assert "Aucune pièce à fournir." in text
    assert "Déjà confirmé" not in text


def test_same_paper_for_several_requests_is_listed_once():
    text = render_text(receipt(SCHOOL, SCHOOL))
    assert text.count("- carnet de santé (vaccinations) (demandes 1, 2)") == 1


def test_notes_and_footer_with_the_code():
    text = render_text(receipt(notes=("La dernière place a été prise : inscription placée en liste d'attente.",)))
    assert "La dernière place a été prise" in text
    footer = text.rsplit("-" * 72, 1)[1]
    assert "RCP-7K3M-Q2XD" in footer
    assert "suivre votre dossier" in footer


def test_training_receipts_are_marked_at_top_and_bottom():
    lines = render_text(receipt(training=True)).strip().splitlines()
    assert lines[0].strip() == TRAINING_MARK == "FORMATION — document sans valeur"
    assert lines[-1].strip() == TRAINING_MARK


def test_hostile_name_keeps_markup_literal_and_replaces_control_characters():
    hostile = ReceiptLine(kind="library", who="\x1b[31mEVE\x07 [bold]X[/bold]\u202e\nligne", what="Carte",
                          state="registered", state_label="inscrit(e)")
    text = render_text(receipt(hostile, household="Foyer\x1b]0;titre\x07"))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "�[31mEVE� [bold]X[/bold]��ligne" in text
    assert "Foyer�]0;titre�" in text
    # No control character anywhere but the line ends.
    assert all(ch == "\n" or ch.isprintable() for ch in text)


@pytest.mark.parametrize("width", [40, 72])
def test_long_names_wrap_within_the_width(width):
    long = ReceiptLine(kind="school", who="Marie-Françoise-Bénédicte " + "X" * 150 + " DE LA TOUR-D'AUVERGNE",
                       what="École " + "très " * 30, state="registered", state_label="inscrit(e)")
    text = render_text(receipt(long), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "X" * 20 in text
    # Continuation lines of a request stay indented under its text.
    request = text.split("1. École — ", 1)[1].split("État", 1)[0]
    assert all(line.startswith("   ") for line in request.splitlines()[1:])


# -- tracking code --------------------------------------------------------------------


def test_code_format():
    for _ in range(200):
        code = new_code()
        prefix, first, second = code.split("-")
        assert prefix == "RCP" and len(first) == len(second) == 4
        assert all(c in CODE_ALPHABET for c in first + second)
        assert not set(first + second) & set("ILOU")
        assert is_code(code)
    assert not is_code("RCP-7K3M-Q2XO")
    assert not is_code("RCP-7K3M")


def test_codes_are_unique_over_many_draws():
    codes = {new_code() for _ in range(20_000)}
    assert len(codes) == 20_000


def test_code_from_a_seeded_generator_is_reproducible():
    assert new_code(random.Random(7)) == new_code(random.Random(7))
    assert len(set(CODE_ALPHABET)) == 32


# -- files -----------------------------------------------------------------------------


def test_save_writes_text_and_pdf_under_year_and_month_with_mode_0640(tmp_path):
    saved = save(receipt(training=True), tmp_path)
    folder = tmp_path / "receipts" / "2026" / "11"
    assert saved.text_path == folder / "RCP-7K3M-Q2XD.txt"
    assert saved.pdf_path == folder / "RCP-7K3M-Q2XD.pdf"
    for path in (saved.text_path, saved.pdf_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert saved.text_path.read_text(encoding="utf-8") == render_text(receipt(training=True))
    pdf = saved.pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 1500
    assert sorted(p.name for p in folder.iterdir()) == ["RCP-7K3M-Q2XD.pdf", "RCP-7K3M-Q2XD.txt"]


def test_save_replaces_an_existing_receipt_and_leaves_no_temporary_file(tmp_path):
    save(receipt(), tmp_path)
    saved = save(receipt(notes=("Deuxième version",)), tmp_path)
    assert "Deuxième version" in saved.text_path.read_text(encoding="utf-8")
    assert sorted(p.name for p in saved.text_path.parent.iterdir()) == ["RCP-7K3M-Q2XD.pdf", "RCP-7K3M-Q2XD.txt"]


def test_a_code_that_would_leave_the_directory_is_refused(tmp_path):
    with pytest.raises(ValueError):
        save(receipt(code="../../etc/x"), tmp_path)


HARD_NAMES = ReceiptLine(
    kind="school", who="Œdipe CŒUR-VAILLANT, Nguyễn Thị Minh Khai, 李小龍, Ærøskøbing \x1b[1m€",
    what="École — 13,60\u202f€/semaine", state="registered", state_label="inscrit(e)",
    papers=(("pièce d'identité — Œ", None),),
)


@pytest.mark.skipif(find_font() is None, reason="no DejaVu Sans on this machine")
def test_pdf_with_a_unicode_font_takes_any_name(tmp_path):
    pdf = render_pdf(receipt(HARD_NAMES, training=True))
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5000  # the embedded font subset
    assert b"DejaVu" in pdf


@pytest.mark.parametrize("fonts", [(), [Path("/nonexistent/font.ttf")]])
def test_pdf_falls_back_to_helvetica_without_crashing(fonts):
    pdf = render_pdf(receipt(HARD_NAMES), fonts=fonts)
    assert pdf.startswith(b"%PDF-")
    assert b"Helvetica" in pdf


def test_a_broken_font_file_falls_back_too(tmp_path):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font at all")
    pdf = render_pdf(receipt(HARD_NAMES), fonts=[broken])
    assert pdf.startswith(b"%PDF-") and b"Helvetica" in pdf


def test_font_search_honours_the_given_candidates(tmp_path):
    font = tmp_path / "MyFont.ttf"
    font.write_bytes(b"x")
    assert find_font([tmp_path / "missing.ttf", font]) == font
    assert find_font([]) is None
    assert FONT_CANDIDATES[0] == Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


# -- printing -----------------------------------------------------------------------------


@pytest.fixture
def pdf_file(tmp_path) -> Path:
    return save(receipt(), tmp_path / "data").pdf_path


def _fake_lp(folder: Path, body: str) -> None:
    folder.mkdir(exist_ok=True)
    lp = folder / "lp"
    lp.write_text(f"#!/bin/sh\n{body}\n")
    lp.chmod(0o755)


def test_no_printer_configured(pdf_file):
    result = print_receipt(pdf_file, None)
    assert not result.ok
    assert result.message.startswith("Aucune imprimante configurée : le récépissé est enregistré dans ")
    assert str(pdf_file) in result.message
    assert not print_receipt(pdf_file, "  ").ok


def test_lp_missing(pdf_file, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = print_receipt(pdf_file, "accueil")
    assert not result.ok
    assert "« lp »" in result.message and "absente" in result.message
    assert str(pdf_file) in result.message


def test_lp_failing(pdf_file, tmp_path, monkeypatch):
    _fake_lp(tmp_path / "bin", 'echo "lp: The printer or class does not exist." >&2; exit 1')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = print_receipt(pdf_file, "accueil")
    assert not result.ok
    assert "L'impression sur « accueil » a échoué : lp: The printer or class does not exist." in result.message


def test_lp_hanging_times_out(pdf_file, tmp_path, monkeypatch):
    _fake_lp(tmp_path / "bin", "exec sleep 5")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = print_receipt(pdf_file, "accueil", timeout=0.3)
    assert not result.ok
    assert "ne répond pas" in result.message


def test_lp_success_receives_printer_and_file(pdf_file, tmp_path, monkeypatch):
    log = tmp_path / "lp-args"
    _fake_lp(tmp_path / "bin", f'printf "%s\\n" "$@" > "{log}"; echo "request id is accueil-12 (1 file(s))"')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = print_receipt(pdf_file, "accueil")
    assert result.ok
    assert result.message == "Récépissé envoyé à l'imprimante « accueil »."
    assert log.read_text().splitlines() == ["-d", "accueil", str(pdf_file.absolute())]


# -- wording of each state, and the stored form ---------------------------------------------------


@pytest.mark.parametrize(("kind", "state", "rank", "confirmed", "expected"), [
    ("school", "registered", None, False, "État : inscrit(e)"),
    ("school", "waiting_list", None, False, "État : sur liste d'attente"),
    ("school", "derogation_requested", None, False,
     "État : dérogation demandée — place non réservée, décision à venir"),
    ("creche", "waiting_list", 424, False, "État : sur liste d'attente — rang provisoire 424"),
    ("creche", "waiting_list", 424, True, "État : sur liste d'attente — rang 424"),
    ("library", "to_deliver", None, False, "État : à transmettre à la médiathèque"),
    ("school", "to_deliver", None, False, "État : à transmettre à la mairie"),
    ("creche", "cancelled", 3, False, "État : annulé(e)"),
])
def test_each_state_is_worded_once(kind, state, rank, confirmed, expected):
    from counter.domain.receipt import state_wording

    label, detail = state_wording(kind, state, rank, rank_confirmed=confirmed)
    line = ReceiptLine(kind=kind, who="Léa GIRAUD", what="", state=state, state_label=label, detail=detail)
    text = render_text(receipt(line))
    [said] = [row.strip() for row in text.splitlines() if row.strip().startswith("État :")]
    assert said == expected
    words = said.removeprefix("État : ").replace(" — ", " ").split()
    assert "transmettre" not in words or words.count("transmettre") == 1  # never "à transmettre — à transmettre"


def test_a_note_two_requests_share_is_said_once():
    from counter.domain.receipt import PROVISIONAL_RANK_NOTE

    text = render_text(receipt(CRECHE, CRECHE, notes=(PROVISIONAL_RANK_NOTE, PROVISIONAL_RANK_NOTE)))
    assert text.count("Le rang sur la liste") == 1


def test_the_stored_receipt_gives_back_the_same_receipt_and_the_same_files(tmp_path):
    from counter.domain.receipt import from_json, to_json
    from counter.services.receipts import ensure_saved

    original = receipt(training=True, notes=("Pièce à apporter avant le 01/01/2027",))
    again = from_json(to_json(original))
    assert again == original
    first = ensure_saved(original, tmp_path / "a")
    second = ensure_saved(again, tmp_path / "b")
    assert first.text_path.read_bytes() == second.text_path.read_bytes()
    assert first.pdf_path.read_bytes() == second.pdf_path.read_bytes()  # no rendering time inside
