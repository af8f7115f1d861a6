"""Typed modal forms: a value back through ``dismiss()``, errors shown at their field."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Label, Select, Static

from counter.domain.text import printable

T = TypeVar("T")


class MarkedCheckbox(Checkbox):
    """A checkbox whose mark says its state without colour: ✓ or blank.

    The mark is read from the value at each paint (``value`` repaints when it
    changes): no watcher of ours, so Textual's own one still sets ``-on`` and
    posts ``Changed``, on which the forms save their draft.
    """

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 — Textual's name for the mark
        return "✓" if self.value else " "


class FieldErrorLabel(Label):
    DEFAULT_CSS = """
    FieldErrorLabel {
        color: $error;
        text-style: bold;
        width: 100%;
        height: auto;
        display: none;
    }
    FieldErrorLabel.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str) -> None:  # noqa: A002 — Textual's name
        # Messages may quote what was typed: never markup.
        super().__init__("", id=id, markup=False)

    def show(self, message: str | list[str] | None) -> None:
        """One message, several (one a line), or none to hide the label."""
        messages = [message] if isinstance(message, str) else list(message or [])
        self.update("\n".join(f"⚠ {printable(m)}" for m in messages if m))
        self.set_class(any(messages), "-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")


class FormScreen(ModalScreen[T], Generic[T]):
    """A form in a modal box; ctrl+s saves, Escape cancels, edits are announced.

    A subclass yields its widgets in ``fields()``, reads them in ``collect()``
    (the value, or the errors of what cannot even be read) and maps the rules'
    field names to its widget ids in ``FIELD_WIDGETS``: an error shows at
    ``#error-<field>`` and focuses that widget. ``self.check`` (the service's
    rules) runs on a value that could be read.
    """

    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
    }
    FormScreen > #box {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    FormScreen #title {
        text-style: bold;
        width: 100%;
    }
    FormScreen .field-label {
        color: $text-muted;
        width: 100%;
    }
    FormScreen Input, FormScreen Select {
        width: 100%;
    }
    FormScreen .days, FormScreen .pair {
        height: auto;
    }
    FormScreen .pair > Input {
        width: 1fr;
    }
    FormScreen .pair > .first {
        margin-right: 1;
    }
    FormScreen Checkbox {
        width: auto;
        border: none;
        padding: 0 1 0 0;
    }
    FormScreen .info {
        color: $text;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="form.save",
                tooltip="Vérifier et ajouter à la visite."),
        Binding("escape", "cancel", "Annuler", id="form.cancel", tooltip="Fermer sans rien ajouter."),
    ]
    TITLE_TEXT = ""
    # The rules' field name → the id of the widget that edits it; a field absent
    # here is its own widget id (the member form), or has none (the form's foot).
    FIELD_WIDGETS: dict[str, str] = {}

    def __init__(self, on_edit=None) -> None:
        super().__init__()
        # Called with the raw values at every change: the visit saves them as a draft.
        self._on_edit = on_edit
        self._finished = False
        self.check = None  # (value) -> list[FieldError]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="box", can_focus=False):
            yield Static(self.TITLE_TEXT, id="title", markup=False)
            yield from self.fields()
            yield FieldErrorLabel(id="error-form")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Focusing the first field may scroll a tall form: the title and the
        # first label must show when it opens.
        self.call_after_refresh(self.query_one("#box", VerticalScroll).scroll_home, animate=False)

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def collect(self) -> tuple[T | None, list]:
        """The value the widgets hold, or the errors of fields that cannot be read."""
        raise NotImplementedError

    # -- helpers for subclasses ------------------------------------------------------

    @staticmethod
    def label(text: str) -> Label:
        return Label(text, classes="field-label", markup=False)

    @staticmethod
    def error(field: str) -> FieldErrorLabel:
        return FieldErrorLabel(id=f"error-{field}")

    @staticmethod
    def days(prefix: str, days: tuple[str, ...], chosen: tuple[str, ...]) -> Horizontal:
        names = {"lun": "Lun", "mar": "Mar", "mer": "Mer", "jeu": "Jeu", "ven": "Ven"}
        return Horizontal(*(MarkedCheckbox(names[d], d in chosen, id=f"{prefix}-{d}") for d in days), classes="days")

    def chosen_days(self, prefix: str, days: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d for d in days if self.query_one(f"#{prefix}-{d}", Checkbox).value)

    def value(self, selector: str) -> str:
        widget = self.query_one(selector)
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        return widget.value.strip()

    # -- errors ----------------------------------------------------------------------

    def widget_for(self, field: str | None):
        """The widget that edits ``field``, or None."""
        if not field:
            return None
        found = self.query(f"#{self.FIELD_WIDGETS.get(field, field)}")
        return found.first() if found else None

    def label_for(self, field: str | None) -> FieldErrorLabel:
        found = self.query(f"#error-{field}") if field else None
        return found.first(FieldErrorLabel) if found else self.query_one("#error-form", FieldErrorLabel)

    def errors_now(self) -> list:
        """Every problem of what the form holds: fields that cannot be read, then the rules."""
        value, errors = self.collect()
        if not errors and value is not None and self.check is not None:
            errors = list(self.check(value))
        return errors

    def show_errors(self, errors) -> None:
        """Each error at its field (several for one field on one label); the
        others at the foot of the form."""
        messages: dict[str, list[str]] = {}
        for error in errors:
            messages.setdefault(self.label_for(error.field).id, []).append(error.message)
        for label in self.query(FieldErrorLabel):
            label.show(messages.get(label.id))

    def reveal(self, errors) -> None:
        """Focus the first field in error and scroll its message into view, so
        the agent sees it and corrects it at once, even below the fold."""
        if not errors:
            return
        first = errors[0]
        widget = self.widget_for(first.field)
        if widget is not None and widget.focusable:
            widget.focus(scroll_visible=False)
        label = self.label_for(first.field)
        box = self.query_one("#box", VerticalScroll)

        def scroll() -> None:
            # The widget and its message below it, both in view.
            if widget is not None:
                box.scroll_to_widget(widget, animate=False, immediate=True)
            box.scroll_to_widget(label, animate=False, immediate=True)

        self.call_after_refresh(scroll)

    def _recheck(self) -> None:
        """An error goes as soon as the agent corrects it; new ones wait for Ctrl+S."""
        shown = {label.id for label in self.query(FieldErrorLabel) if label.shown}
        if not shown:
            return
        still = [e for e in self.errors_now() if self.label_for(e.field).id in shown]
        self.show_errors(still)

    # -- drafts ----------------------------------------------------------------------

    def raw_values(self) -> dict:
        values = {}
        for widget in self.query("Input, Select, Checkbox"):
            if widget.id:
                raw = widget.value
                values[widget.id] = None if raw is Select.NULL else raw
        return values

    def restore(self, values: dict | None) -> None:
        for key, raw in (values or {}).items():
            found = self.query(f"#{key}")
            if found and raw is not None:
                try:
                    found.first().value = raw
                except Exception:  # noqa: BLE001 — a value that no longer fits (a removed option)
                    pass

    def _edited(self) -> None:
        # A change still queued when the form closes (a Select setting the next
        # field) must not reopen it in the draft.
        if self._finished or not self.is_mounted:
            return
        if self._on_edit is not None:
            self._on_edit(self.raw_values())
        self._recheck()

    def close(self, value) -> None:
        self._finished = True
        self.dismiss(value)

    def on_input_changed(self) -> None:
        self._edited()

    def on_select_changed(self) -> None:
        self._edited()

    def on_checkbox_changed(self) -> None:
        self._edited()

    def action_cancel(self) -> None:
        self.close(None)

    def action_save(self) -> None:
        """Close with the value unless the form or the rules find problems to show."""
        errors = self.errors_now()
        if errors:
            self.show_errors(errors)
            self.reveal(errors)
            return
        value, _ = self.collect()
        self.close(value)
