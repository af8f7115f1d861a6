"""The results tables' column spec: widths for the terminal's width, cells as plain text."""

from __future__ import annotations

from fractions import Fraction

from screens.results import Column, column_widths


def test_fixed_and_shared_columns_fill_80_columns():
    columns = (Column("name", "Nom", str, share=0.6), Column("born", "Naissance", str, width=10),
               Column("given", "Prénoms", str, share=0.4))
    widths = column_widths(columns, 80)
    # 80 less 10, two cells of padding per column and one for the scroll bar: 63 shared.
    assert widths == {"name": 37, "born": 10, "given": 25}


def test_a_fixed_column_is_never_narrower_than_its_header():
    assert column_widths((Column("n", "Numéro", str, width=2),), 80) == {"n": 6}


def test_a_fitted_column_follows_its_longest_cell_up_to_its_share_and_the_rest_takes_the_remainder():
    columns = (Column("who", "Pour", lambda r: r, fit=True, share=Fraction(1, 3), minimum=14),
               Column("what", "Détail", lambda r: r, rest=True, minimum=10))
    free = 80 - 2 * 2 - 1  # 75
    assert column_widths(columns, 80, ["Léa"]) == {"who": 14, "what": free - 14}
    assert column_widths(columns, 80, ["x" * 20]) == {"who": 20, "what": free - 20}
    assert column_widths(columns, 80, ["x" * 60]) == {"who": 25, "what": 50}  # a third of 75, exactly


def test_a_rest_column_too_narrow_is_left_out():
    columns = (Column("a", "A", str, width=70), Column("error", "Erreur", str, rest=True, drop_below=15))
    assert column_widths(columns, 80) == {"a": 70}
    assert column_widths(columns, 100) == {"a": 70, "error": 100 - 70 - 4 - 1}


def test_a_cell_is_plain_text_never_markup():
    column = Column("name", "Nom", lambda r: r, style="bold")
    text = column.text("[bold]Zoé[/bold]\x1b]52;c;aGk=\x07")
    assert text.plain == "[bold]Zoé[/bold]�]52;c;aGk=�"
    assert text.spans == [] and str(text.style) == "bold"
