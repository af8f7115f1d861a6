"""Hostile text where it really comes from — the town's database and the agencies'
answers — shown literally, with controls as '�', the layout intact, and none of it
written raw to the terminal."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Select

from screens.dossier import DossierScreen, SectionPanel
from screens.household import HouseholdScreen
from tests.hostile import BIDI, CSI_CLEAR, INVISIBLE, LONG, MARKUP, OSC52, rename, rewriting_backends
from tests.pilot.helpers import assert_layout_intact, started, table_rows, terminal_output, type_text, until

# The DELAUNAY household (tests/pilot/test_visit.py): Nicolas, Jade (2024), Lina (2025).
NICOLAS, JADE, LINA = 3492, 3493, 3494
SHOWN_OSC52 = "�]52;c;aGk=�"  # ESC and BEL replaced, one for one
RAW = ("\x1b]52", "\x07", BIDI, "\u200b", "\ufeff", "\x1b[2J")


def assert_nothing_raw(app) -> None:
    """What the app writes to paint the screen holds none of the data's sequences."""
    written = terminal_output(app)
    for sequence in RAW:
        assert sequence not in written, f"{sequence!r} reached the terminal"


def hostile_delaunays(store) -> None:
    rename(store, JADE, given_names=MARKUP)
    rename(store, NICOLAS, usage_name="DELAUNAY" + OSC52 + BIDI + INVISIBLE)
    rename(store, LINA, usage_name=LONG)


async def test_markup_in_a_name_from_the_town_is_shown_as_those_sixteen_characters(town_store, make_app):
    hostile_delaunays(town_store)
    app = make_app(town_store)
    async with started(app, (120, 40)) as pilot:
        await type_text(pilot, "zoe delaunay")
        rows = table_rows(app)
        assert [row[1] for row in rows] == [MARKUP]  # the Prénoms cell, exactly
        lines = assert_layout_intact(app)
        assert any(MARKUP in line for line in lines)
        assert_nothing_raw(app)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None)
        details = str(app.screen.query_one("#details").render())
        assert details.startswith(f"{MARKUP} DELAUNAY — enfant, née le ")
        assert any(f"{MARKUP} DELAUNAY" in line for line in assert_layout_intact(app))
        assert_nothing_raw(app)


async def test_escape_sequences_bidi_and_invisible_characters_become_placeholders(town_store, make_app):
    hostile_delaunays(town_store)
    app = make_app(town_store)
    async with started(app, (120, 40)) as pilot:
        await type_text(pilot, "nicolas delaunay 1987")
        (row,) = table_rows(app)
        assert row[0] == f"DELAUNAY{SHOWN_OSC52}��� né DELAUNAY"
        assert_layout_intact(app)
        assert_nothing_raw(app)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None)
        await pilot.press("f3")  # Nicolas is the household's first member: his dossier
        await until(pilot, lambda: isinstance(app.screen, DossierScreen) and app.screen.subject is not None)
        who = str(app.screen.query_one("#who").render())
        assert who.startswith(f"Nicolas Noël Émile André DELAUNAY{SHOWN_OSC52}��� né DELAUNAY — né le ")
        header = assert_layout_intact(app)[0]
        assert f"Dossier — DELAUNAY{SHOWN_OSC52}" in header  # the Header's sub-title
        assert_nothing_raw(app)


async def test_a_ten_thousand_character_name_keeps_every_screen_in_shape(town_store, make_app):
    hostile_delaunays(town_store)
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "delaunay 2025")
        rows = table_rows(app)
        lina = next(row for row in rows if row[0].startswith("ZZZZ"))
        assert lina[0].endswith("…") and len(lina[0]) <= 300  # cut, and said so
        lines = assert_layout_intact(app)
        # One row per person, the other columns still there: her birth year beside her name.
        assert len([line for line in lines if "ZZZZ" in line]) == 1
        assert any("ZZZZ" in line and "2025" in line for line in lines)

        table = app.screen.query_one("#results", DataTable)
        table.move_cursor(row=rows.index(lina))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None)
        lines = assert_layout_intact(app)
        assert len(table_rows(app, "#members")) == 3
        assert any("Nicolas" in line for line in lines)  # the others are still on the screen
        assert any("DELAUNAY" in line and "2024" in line for line in lines)

        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen) and app.screen.subject is not None)
        lines = assert_layout_intact(app)
        assert "Dossier — ZZZZ" in lines[0] and lines[0].rstrip().endswith("…")
        assert str(app.screen.query_one("#who").render()).count("Z") <= 300
        # No agency in this app: the town's own record, and the status line says so.
        assert any("Aucune source n'est configurée" in line for line in lines)


async def test_a_child_named_with_markup_by_the_caf_is_shown_and_refused_literally(town_store, make_app):
    """The done-when of the issue: `[bold]Zoé[/bold]` arriving from an agency is displayed exactly so."""
    from screens.corrections import ChooseCorrection
    from screens.member_form import MemberForm

    # Léa's first name and birth date changed: a child the household lacks, to take in.
    backends = rewriting_backends({"api_particulier": {
        "LEA": MARKUP, "2018-11-25": "2019-11-25",
        "8 BOULEVARD JEAN JAURÈS": "8 BOULEVARD JEAN JAURÈS" + OSC52 + CSI_CLEAR}})
    app = make_app(town_store, backends=backends)
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "giraud anne")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen) and all(
            p.answer is not None for p in app.screen.query(SectionPanel)), "every section")
        qf = app.screen.query_one("#section-api_particulier-quotient_familial", SectionPanel)
        text = str(qf.render())
        assert f"enfant : {MARKUP} GIRAUD, né(e) le 25/11/2019" in text
        assert f"Adresse connue : 8 BOULEVARD JEAN JAURÈS{SHOWN_OSC52}�[2J, 13400 AUBAGNE" in text
        conflicts = str(app.screen.query_one("#conflicts").render())
        assert MARKUP in conflicts and SHOWN_OSC52 in conflicts
        assert_layout_intact(app)
        assert_nothing_raw(app)

        # Taken into the household: the choice, then the form, say it as it came.
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChooseCorrection), "the corrections")
        options = app.screen.query_one("OptionList")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        child = next(i for i, p in enumerate(prompts) if MARKUP in p)
        assert prompts[child] == f"Ajouter au foyer l'enfant connu de la source : {MARKUP} GIRAUD, né(e) le 25/11/2019"
        offered = [line for line in assert_layout_intact(app) if "Ajouter au foyer l'enfant" in line]
        assert len(offered) == 1 and MARKUP in offered[0]  # the option as painted, not read as markup
        options.highlighted = child
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "the member form")
        form = app.screen
        assert form.query_one("#given_names").value == MARKUP
        form.query_one("#birth_insee_code").value = "13005"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.query_one("#error-given_names").has_class("-shown"), "the field's error")
        error = str(form.query_one("#error-given_names").render())
        assert error == "⚠ Prénoms : caractère non admis « [ » (lettres, espace, trait d'union, apostrophe)."
        painted = [line for line in assert_layout_intact(app) if "Prénoms : caractère non admis" in line]
        assert len(painted) == 1 and "« [ »" in painted[0]
        assert_nothing_raw(app)


async def test_a_visit_and_its_receipt_name_the_child_literally(town_store, make_app, tmp_path):
    from screens.receipt import ReceiptScreen
    from screens.visit import ConfirmVisit, VisitScreen
    from registrations.library.form import LibraryForm
    from registrations.school.form import SchoolForm

    hostile_delaunays(town_store)
    app = make_app(town_store, backends="training")
    async with started(app, (100, 40)) as pilot:
        await type_text(pilot, "zoe delaunay")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
        visit = app.screen
        await until(pilot, lambda: "Tarifs" in str(visit.query_one("#facts").render()), "agency facts")

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
        children = app.screen.query_one("#person", Select)
        prompts = [str(prompt) for prompt, _ in children._options[1:]]
        assert prompts[0] == f"{MARKUP} DELAUNAY — PS"
        assert prompts[1].startswith("Lina ZZZZ") and prompts[1].endswith("…") and len(prompts[1]) <= 72
        children.value = JADE
        app.screen.query_one("#separated", Select).value = "non"  # a lone parent: the family answers
        await pilot.pause()
        assert any(f"{MARKUP} DELAUNAY — PS" in line for line in assert_layout_intact(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, LibraryForm), "library form")
        app.screen.query_one("#person", Select).value = NICOLAS
        await pilot.pause()
        assert_nothing_raw(app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert [row[2] for row in table_rows(app, "#requests")][0].startswith(f"{MARKUP} DELAUNAY")

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
        on_screen = str(app.screen.query_one("#receipt").render())
        assert f"1. École — {MARKUP} DELAUNAY" in on_screen
        assert f"2. Bibliothèque — Nicolas DELAUNAY{SHOWN_OSC52}���" in on_screen
        assert_layout_intact(app)
        assert_nothing_raw(app)

        saved = app.screen.saved
        text = Path(saved.text_path).read_text(encoding="utf-8")
        assert f"{MARKUP} DELAUNAY" in text and f"DELAUNAY{SHOWN_OSC52}" in text
        for sequence in RAW:
            assert sequence not in text
        # The PDF draws the same blocks as the text (its streams are compressed): none holds a control.
        from counter.domain.receipt import blocks
        from counter.domain.text import printable

        assert Path(saved.pdf_path).stat().st_size > 0
        assert all(printable(block.text) == block.text for block in blocks(app.screen.receipt))
