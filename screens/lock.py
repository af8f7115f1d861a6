"""The lock screen, the first-use PIN setup and the purpose of a consultation.

The lock screen is a full screen, not a modal over the data: it shows the
counter's name, « Poste verrouillé », the agent's login and a PIN field, and
nothing of what was open behind it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, OptionList

from counter.domain.purposes import PURPOSES
from screens.base import WorkerFailures, service_worker
from screens.widgets import SafeInput, StatusLine, TrainingBanner, plain

# The PIN's round trip failed for want of a service: the lock stays.
UNREACHABLE = "Service du guichet injoignable : réessayez."


class _Guard(WorkerFailures, Screen[None]):
    """What the lock and the PIN setup share: the app knows it is locked while one is on top.

    ``settling``: the app sets it when it hands this screen an Enter, and holds
    the next keys until the screen has acted on it (:meth:`settled`, or the
    unlock): keys typed after a code go where the agent will see them.
    """

    CSS_PATH = "lock.tcss"
    AUTO_FOCUS = "#pin"
    settling = False
    covers_typing = False  # see screens/typeahead.py
    shown_at: float | None = None

    def compose_head(self) -> ComposeResult:
        if self.app.training:
            yield TrainingBanner()
        yield Label(plain(f"Guichet unique · {self.app.town_name}", "bold"), id="lock-town")

    def on_mount(self) -> None:
        # Production is locked from the start: the database may fail to open behind the lock.
        self.watch(self.app, "problem", self._on_problem, init=True)
        self.call_after_refresh(self._shown)

    def _shown(self) -> None:
        import time

        self.shown_at = time.monotonic()  # the clock of Textual's event times

    def _on_problem(self, problem: str) -> None:
        if problem:
            self.query_one(StatusLine).say(problem, error=True)

    def settled(self, message: str | None = None, error: bool = True) -> None:
        """Done with the Enter: say why if need be, and take the keys typed since."""
        if message is not None:
            self.query_one(StatusLine).say(message, error=error)
        self.settling = False
        self.app.call_later(self.app.release_keys)

    def worker_failed(self, exc: BaseException, message: str | None, then: str | None = None) -> None:
        # Done with the Enter, whatever failed: the keys typed since are not held for ever.
        self.settled(message)


class LockScreen(_Guard):
    BINDINGS = [Binding("escape", "nothing", "", id="lock.escape", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._pending: str | None = None  # a code typed before the database was open

    def compose(self) -> ComposeResult:
        yield from self.compose_head()
        with Vertical(id="lock-box"):
            yield Label("Poste verrouillé", id="lock-title")
            yield Label(plain(f"Agent : {self.app.login}"), id="lock-agent")
            yield SafeInput(placeholder="Code personnel", password=True, id="pin", max_length=8)
            yield StatusLine("Saisissez votre code puis Entrée.", id="status")
        yield Footer(compact=True)

    def action_nothing(self) -> None:
        self.query_one("#pin", SafeInput).value = ""

    @on(SafeInput.Submitted, "#pin")
    def _submitted(self, event: SafeInput.Submitted) -> None:
        pin = event.value
        event.input.value = ""
        if not self.app.pin_checked:  # production, the database still opening: checked once it is
            self._pending = pin
            self.query_one(StatusLine).say("Ouverture de la base de données… le code sera vérifié dans un instant.")
            return
        self.try_unlock(pin)

    def decided(self, has_pin: bool) -> None:
        """The app knows whether the agent has a PIN (production, at start)."""
        if has_pin:
            if self._pending is not None:
                pin, self._pending = self._pending, None
                self.try_unlock(pin)
            return
        # No PIN yet (first use, or reset by a supervisor): the setup takes the
        # lock's place with what was typed. Keys may still be on their way to
        # the field: read it after them, the next ones waiting meanwhile.
        self.settling = True
        self.query_one("#pin", SafeInput).call_later(self._to_setup)

    def _to_setup(self) -> None:
        code = self._pending if self._pending is not None else self.query_one("#pin", SafeInput).value
        self.app.replace_guard(PinSetup(code, first_use=True))

    @service_worker(group="unlock", unreachable=UNREACHABLE)
    def try_unlock(self, pin: str) -> None:
        result = self.app.counter.unlock(pin)
        if result.ok:
            self.app.call_from_thread(self.app.unlock)
        else:
            self.app.call_from_thread(self.settled, result.message)


class PinSetup(_Guard):
    """First use: the agent chooses a PIN, typed twice.

    ``code``: what was already typed on production's start lock, kept;
    ``covers_typing``: opened over the search at first start (see screens/typeahead.py).
    """

    BINDINGS = [Binding("escape", "restart", "Recommencer", id="pin_setup.restart")]

    def __init__(self, code: str = "", first_use: bool = False, covers_typing: bool = False) -> None:
        super().__init__()
        self._code = code
        self._first_use = first_use
        self.covers_typing = covers_typing

    def compose(self) -> ComposeResult:
        yield from self.compose_head()
        with Vertical(id="lock-box"):
            yield Label("Choisissez votre code personnel", id="lock-title")
            yield Label(plain(f"Agent : {self.app.login} · 4 à 8 chiffres, "
                              "demandé pour déverrouiller le poste"), id="lock-agent")
            yield SafeInput(self._code, placeholder="Code", password=True, id="pin", max_length=8)
            yield SafeInput(placeholder="Le même code, encore", password=True, id="pin-again", max_length=8)
            yield StatusLine("Pas encore de code personnel : choisissez-le, Entrée, puis le même code."
                             if self._first_use else "Saisissez le code, Entrée, puis le même code.", id="status")
        yield Footer(compact=True)

    def action_restart(self) -> None:
        for field in self.query(SafeInput):
            field.value = ""
        # At once, not focus(): the keys waiting for this Enter go to the first field.
        self.set_focus(self.query_one("#pin", SafeInput))

    @on(SafeInput.Submitted, "#pin")
    def _first(self) -> None:
        from counter.domain.pins import PinError, check_rule

        try:
            check_rule(self.query_one("#pin", SafeInput).value)
        except PinError as exc:
            self.settled(str(exc))
            return
        self.set_focus(self.query_one("#pin-again", SafeInput))
        self.settled()

    @on(SafeInput.Submitted, "#pin-again")
    def _second(self) -> None:
        first, second = self.query_one("#pin", SafeInput).value, self.query_one("#pin-again", SafeInput).value
        if first != second:
            self.action_restart()
            self.settled("Les deux codes diffèrent : recommencez.")
            return
        self.save(first)

    # Refused: a PIN that breaks the rule, in the service's words.
    @service_worker(group="pin", unreachable=UNREACHABLE)
    def save(self, pin: str) -> None:
        self.app.counter.set_pin(pin)
        self.app.call_from_thread(self.app.unlock)


class PurposeScreen(ModalScreen[str | None]):
    """Why the agent opens this dossier (asked once per family visit, audited)."""

    CSS_PATH = "lock.tcss"
    AUTO_FOCUS = "#purposes"
    BINDINGS = [Binding("escape", "cancel", "Annuler", id="purpose.cancel", tooltip="Ne pas ouvrir le dossier.")]

    def compose(self) -> ComposeResult:
        with Vertical(id="purpose-box"):
            yield Label("Motif de la consultation", id="purpose-title")
            yield OptionList(*PURPOSES, id="purposes")
            yield Label("Entrée : choisir · Échap : annuler", id="purpose-help")

    @on(OptionList.OptionSelected, "#purposes")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(PURPOSES[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
