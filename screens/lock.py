"""The lock screen, the first-use PIN setup and the purpose of a consultation.

The lock screen is a full screen, not a modal over the data: it shows the
counter's name, « Poste verrouillé », the agent's login and a PIN field, and
nothing of what was open behind it.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, OptionList

from counter.domain.purposes import PURPOSES
from screens.widgets import SafeInput, StatusLine, TrainingBanner, plain


class _Guard(Screen[None]):
    """What the lock and the PIN setup share: the app knows it is locked while one is on top."""

    CSS_PATH = "lock.tcss"
    AUTO_FOCUS = "#pin"

    def compose_head(self) -> ComposeResult:
        if self.app.runtime.training:
            yield TrainingBanner()
        yield Label(plain(f"Guichet unique · {self.app.runtime.town_name}", "bold"), id="lock-town")


class LockScreen(_Guard):
    BINDINGS = [Binding("escape", "nothing", "", id="lock.escape", show=False)]

    def compose(self) -> ComposeResult:
        yield from self.compose_head()
        with Vertical(id="lock-box"):
            yield Label("Poste verrouillé", id="lock-title")
            yield Label(plain(f"Agent : {self.app.runtime.agent_login}"), id="lock-agent")
            yield SafeInput(placeholder="Code personnel", password=True, id="pin", max_length=8)
            yield StatusLine("Saisissez votre code puis Entrée.", id="status")
        yield Footer(compact=True)

    def action_nothing(self) -> None:
        self.query_one("#pin", SafeInput).value = ""

    @on(SafeInput.Submitted, "#pin")
    def _submitted(self, event: SafeInput.Submitted) -> None:
        pin = event.value
        event.input.value = ""
        self.try_unlock(pin)

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def try_unlock(self, pin: str) -> None:
        from counter.services.lock import LockService

        try:
            result = LockService(self.app.services.store, now=self.app.utc_now).unlock(
                self.app.runtime.agent_login, pin)
        except Exception:  # noqa: BLE001 — the database gone: stay locked, say so
            import logging

            logging.getLogger("counter").exception("unlock failed")
            self.app.call_from_thread(self.query_one(StatusLine).say,
                                      "Base de données indisponible : réessayez.", error=True)
            return
        if result.ok:
            self.app.call_from_thread(self.app.unlock)
        else:
            self.app.call_from_thread(self.query_one(StatusLine).say, result.message, error=True)


class PinSetup(_Guard):
    """First use: the agent chooses a PIN, typed twice."""

    BINDINGS = [Binding("escape", "restart", "Recommencer", id="pin_setup.restart")]

    def compose(self) -> ComposeResult:
        yield from self.compose_head()
        with Vertical(id="lock-box"):
            yield Label("Choisissez votre code personnel", id="lock-title")
            yield Label(plain(f"Agent : {self.app.runtime.agent_login} · 4 à 8 chiffres, "
                              "demandé pour déverrouiller le poste"), id="lock-agent")
            yield SafeInput(placeholder="Code", password=True, id="pin", max_length=8)
            yield SafeInput(placeholder="Le même code, encore", password=True, id="pin-again", max_length=8)
            yield StatusLine("Saisissez le code, Entrée, puis le même code.", id="status")
        yield Footer(compact=True)

    def action_restart(self) -> None:
        for field in self.query(SafeInput):
            field.value = ""
        self.query_one("#pin", SafeInput).focus()

    @on(SafeInput.Submitted, "#pin")
    def _first(self) -> None:
        from counter.domain.pins import PinError, check_rule

        try:
            check_rule(self.query_one("#pin", SafeInput).value)
        except PinError as exc:
            self.query_one(StatusLine).say(str(exc), error=True)
            return
        self.query_one("#pin-again", SafeInput).focus()

    @on(SafeInput.Submitted, "#pin-again")
    def _second(self) -> None:
        first, second = self.query_one("#pin", SafeInput).value, self.query_one("#pin-again", SafeInput).value
        if first != second:
            self.action_restart()
            self.query_one(StatusLine).say("Les deux codes diffèrent : recommencez.", error=True)
            return
        self.save(first)

    @work(thread=True, exclusive=True, group="pin", exit_on_error=False)
    def save(self, pin: str) -> None:
        from counter.domain.pins import PinError
        from counter.services.lock import LockService

        try:
            LockService(self.app.services.store).set_pin(self.app.runtime.agent_login, pin)
        except PinError as exc:
            self.app.call_from_thread(self.query_one(StatusLine).say, str(exc), error=True)
            return
        except Exception:  # noqa: BLE001
            import logging

            logging.getLogger("counter").exception("setting the PIN failed")
            self.app.call_from_thread(self.query_one(StatusLine).say,
                                      "Base de données indisponible : réessayez.", error=True)
            return
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
