"""What the kinds' forms of a visit share (registrations/*/form.py): keeping a
dropdown's choice as its options change, reading numbers and dates typed."""

from __future__ import annotations

from datetime import date

from textual.widgets import Select

from screens.widgets import choices

YES, NO = "oui", "non"


def shown_date(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def keep_options(select: Select, options: list[tuple[str, object]], wanted) -> None:
    """New options, keeping the choice (or ``wanted``) when it is still offered.

    Unchanged options are left alone: setting them again would clear the value
    and announce a change, which would refresh the form again, endlessly.
    """
    current = select.value if wanted is Select.NULL else wanted
    if getattr(select, "offered", None) != options:
        select.offered = options
        select.set_options(choices(options))  # labels are town data: plain text, never markup
    if select.value != current and any(value == current for _, value in options):
        select.value = current


def as_int(text: str) -> int | None:
    try:
        return int(text.replace(" ", "").replace("\u202f", ""))
    except ValueError:
        return None


def as_float(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
