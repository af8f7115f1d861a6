"""Small widgets shared by the screens."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Footer, Header, Input, Select, Static

from counter.domain.query import search_text
from counter.domain.text import MAX_SHOWN, printable, shown


# An option of a Select or an OptionList: lists wrap long options, so they are cut to a line.
OPTION_LENGTH = 72


def quit_unshown(screen: str) -> Binding:
    """Ctrl+Q as everywhere (the app's binding quits), but left out of this
    screen's footer: at 80 columns the screen's own keys come first (the
    palette's « Quitter » and the README's keys still name it)."""
    return Binding("ctrl+q", "app.quit", "Quitter", id=f"{screen}.quit", show=False, priority=True)


def plain(value: object, style: str = "", limit: int = MAX_SHOWN) -> Text:
    """External text as a Rich Text on one line: never parsed as markup, controls
    made visible, cut when too long (counter.domain.text.shown)."""
    return Text(shown(value, limit), style=style, no_wrap=True, overflow="ellipsis")


def lines_of(lines: list[str]) -> Text:
    """Several lines of external text, each made safe by ``shown``, none parsed as markup."""
    return Text("\n".join(shown(line) for line in lines))


def choices(options) -> list[tuple[Text, object]]:
    """Options for a Select: a str prompt would be read as markup."""
    return [(plain(label, limit=OPTION_LENGTH), value) for label, value in options]


class SafeHeader(Header):
    """The Header, with the title and sub-title (a person's name, the town's) made safe.

    Textual writes them as they are; an ESC in a name would reach the terminal.
    """

    def format_title(self) -> Content:
        return self.app.format_title(shown(self.screen_title), shown(self.screen_sub_title))


class SteadyFooter(Footer):
    """A Footer that redraws only when the keys it shows change.

    Textual's Footer recomposes (every key of it sent again to the terminal,
    about 1 KB at 80x24) whenever the screen says its bindings may have
    changed — several times per search result shown, mostly for nothing.
    """

    _shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            shown = tuple(
                (key, binding.action, binding.description, enabled, tooltip)
                for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                if binding.show
            )
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)


class SafeInput(Input):
    """An Input whose value never holds a control, bidi or zero-width character.

    A paste (or a value restored from an agency's answer) may carry ESC or
    U+202E: they become the visible placeholder, one for one, so the terminal
    never receives them and the field's rules can name them.
    """

    def on_mount(self) -> None:
        # No blinking: on a thin client every blink is a screen update on the wire
        # (and a snapshot would catch the cursor on or off by chance).
        self.cursor_blink = False

    def validate_value(self, value: str) -> str:
        return printable(value)


class TrainingBanner(Static):
    """The permanent FORMATION banner: training data, not real people."""

    DEFAULT_CSS = """
    TrainingBanner {
        height: 1;
        width: 100%;
        background: $warning;
        color: $background;
        text-style: bold;
        content-align: center middle;
    }
    """

    def __init__(self) -> None:
        super().__init__("FORMATION — ville fictive, aucune donnée réelle", id="training-banner")

    def on_mount(self) -> None:
        # The scenario comes with the session: the first screen is drawn before it.
        if hasattr(self.app, "ready"):
            self.watch(self.app, "ready", self._titled, init=True)

    def _titled(self, _ready: bool = True) -> None:
        scenario = getattr(self.app, "scenario", None)
        if scenario is not None:  # `counter train NAME`: the scenario's title, F1 tells more
            self.update(plain(f"FORMATION — {scenario.title} (F1)"))


class StatusLine(Static):
    """One or two lines telling the agent what the screen is doing or expects."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    StatusLine.-error {
        color: $error;
        text-style: bold;
    }
    """

    _said: tuple[str, bool] | None = None
    _own: tuple[str, bool] | None = None  # what the screen said, shown again when the service is back
    _warned: str = ""  # the app's warnings (bus offline, sync), as last shown under the message

    def __init__(self, message: str = "", **kwargs) -> None:
        super().__init__(lines_of(message.split("\n")) if message else "", **kwargs)
        self._own = (message, False)

    def on_mount(self) -> None:
        # Every screen's status line says when the counter service is gone.
        if hasattr(self.app, "service_down"):
            self.watch(self.app, "service_down", self._service_down, init=True)
        # …and when the town's families are not synchronised with the family system,
        # or the roaming bus is offline.
        if hasattr(self.app, "sync_warning"):
            self.watch(self.app, "sync_warning", self._sync_warning, init=False)
        if hasattr(self.app, "link_warning"):
            self.watch(self.app, "link_warning", self._sync_warning, init=False)

    def _sync_warning(self, _warning: str) -> None:
        if self._said is not None:
            self._show(*self._said)

    def _service_down(self, message: str) -> None:
        if message:
            self._show(message, True)
        elif self._own is not None and self._said != self._own:
            self._show(*self._own)

    def say(self, message: str, *, error: bool = False) -> None:
        self._own = (message, error)
        if getattr(self.app, "service_down", ""):
            return  # shown once the service is back
        self._show(message, error)

    def _show(self, message: str, error: bool) -> None:
        # Thin clients: the same words again send nothing, and new words of the
        # same height are repainted without a layout of the screen (a layout
        # repaints every scroll bar and the footer too).
        # The bus offline above the screen's words (the line holds three rows at most:
        # a long message must not push it out of sight — it changes what the agent
        # may promise), the family system's sync beneath them.
        link, sync = getattr(self.app, "link_warning", ""), getattr(self.app, "sync_warning", "")
        warnings = [w for w in (link, sync) if w]
        warning = "\n".join(warnings)
        if self._said == (message, error) and self._warned == warning:
            return
        self._said, self._warned = (message, error), warning
        self.set_class(error, "-error")
        lines = message.split("\n") if message else []
        content = lines_of([*([link] if link else []), *lines, *([sync] if sync else [])])
        width = self.content_size.width
        if width and self.is_mounted:
            from textual.visual import visualize

            lines = min(visualize(self, content, markup=False).get_height(self.styles, width), 3)
            self.update(content, layout=lines != self.content_size.height)
        else:
            self.update(content)


class OrderedInput(SafeInput):
    """An Input that applies editing keys in the order they arrive.

    Textual inserts printable keys in the Input itself but resolves its other
    bindings (backspace, ctrl+u…) after the key has bubbled up to the app; when
    keys arrive in one burst — a thin client over SSH often delivers a typist's
    keys that way — "abc⌫xy" became "abcx". Running the Input's own bindings
    here keeps the order.
    """

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            bindings = self._bindings.key_to_bindings.get(event.key, [])
            for binding in bindings:
                if binding.action in _EDITING_ACTIONS:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(binding.action)
                    return
        await super()._on_key(event)


class SearchInput(OrderedInput):
    """A search box: a tab or a line break, typed or pasted, separates words like a space.

    A plain SafeInput shows them as '�', which joined « roux<TAB>jeanne »
    (two spreadsheet cells) into one word; and Textual's Input keeps only the
    first line of a paste, so « roux⏎jeanne » searched « roux » alone.
    """

    def validate_value(self, value: str) -> str:
        return super().validate_value(search_text(value))

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own paste, which keeps the first line
        event.stop()
        if event.text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(search_text(event.text))
            else:
                self.replace(search_text(event.text), *selection)


# The Input's own actions that must not be overtaken by later keys.
_EDITING_ACTIONS = frozenset({
    "delete_left", "delete_right", "delete_left_word", "delete_right_word",
    "delete_left_all", "delete_right_all", "cursor_left", "cursor_right",
    "cursor_left_word", "cursor_right_word", "home", "end",
    "cursor_left(True)", "cursor_right(True)", "home(True)", "end(True)",
    "cursor_left_word(True)", "cursor_right_word(True)", "cut", "copy", "paste", "select_all", "submit",
})


class Dropdown(Select):
    """A Select whose open list names its Escape key in French in the footer.

    Textual's list binds Escape as "Dismiss menu", without an id to remap. A
    priority binding of the Select itself, enabled only while its list is open,
    takes precedence in the footer and closes the list the same way.
    """

    BINDINGS = [
        Binding("escape", "close_list", "Fermer la liste", id="dropdown.close", priority=True,
                tooltip="Fermer la liste sans changer le choix."),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_list":
            return self.expanded  # closed, Escape goes on to the screen (cancel the form)
        return super().check_action(action, parameters)

    def action_close_list(self) -> None:
        self.expanded = False
        self.focus()
