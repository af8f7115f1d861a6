"""The Textual application: screens, bindings, the command palette, the session.

The terminal is a client of the counter service: after the first paint a
worker asks the service for the session (who the kernel says the agent is, the
town, its rules); screens call ``app.counter`` once ``app.ready`` turns true.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import var

from counter.client.terminal import Terminal
from counter.terminal import NoTerminal, has_terminal
from screens.commands import CounterCommands
from screens.drafts import DraftSaving
from screens.search import SearchScreen
from screens.theme import choose_theme
from screens.typeahead import TypeAhead

if TYPE_CHECKING:
    from counter.client.api import CounterClient
    from counter.wire.session import Session


class CounterApp(TypeAhead, DraftSaving, App[None]):
    # search.tcss here: Textual never loads the CSS_PATH of the default screen
    # (without it the results table grew past the footer and the screen scrolled).
    CSS_PATH = ["app.tcss", "search.tcss"]
    COMMANDS = App.COMMANDS | {CounterCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quitter", id="app.quit", priority=True,
                tooltip="Fermer le guichet et revenir à l'invite de commande."),
        Binding("ctrl+p", "command_palette", "Commandes", id="app.palette", show=False, priority=True,
                tooltip="Ouvrir la palette de commandes."),
        Binding("f5", "retry_services", "Réessayer", id="app.retry",
                tooltip="Réessayer d'ouvrir la base de données."),
        # Not in the footer (it would crowd out the screen's own keys at 80 columns):
        # the banner says « (F1) » whenever a scenario runs.
        Binding("f1", "scenario_help", "Scénario", id="app.scenario", show=False,
                tooltip="La situation du scénario de formation, ce qu'elle permet d'apprendre."),
        Binding("ctrl+l", "lock", "Verrouiller", id="app.lock", priority=True, show=False,
                tooltip="Verrouiller le poste tout de suite (le code personnel le déverrouille)."),
    ]
    # How often the idle lock looks at the time of the last key.
    IDLE_CHECK_SECONDS = 10

    # var, not reactive: a reactive of the App repaints the whole screen when it
    # changes (4.6 KB to a thin client each time, for nothing shown by the App).
    ready: var[bool] = var(False)
    problem: var[str] = var("")
    # The first-use / start lock decided: until then the search screen takes no key.
    pin_checked: var[bool] = var(False)
    # French, while the counter service does not answer (every status line shows it).
    service_down: var[str] = var("")
    # French: the families are not synchronised with the family system (the session says); every status line shows it.
    sync_warning: var[str] = var("")
    # French, on the roaming bus while its link to the town's database is down (« Hors ligne
    # depuis 14:05 … », from the session); every status line shows it.
    link_warning: var[str] = var("")

    # Seconds between two attempts to reach a service that went away.
    RECONNECT_SECONDS = 2.0
    # Seconds between two readings of the session while all is well.
    SESSION_REFRESH_SECONDS = 60.0
    # …on the roaming bus: its link comes and goes, and the agent sees it within seconds.
    BUS_SESSION_REFRESH_SECONDS = 5.0
    # How long the bus's agent sees what its sending back to the town hall changed.
    TOUR_NOTICE_SECONDS = 60.0
    _tour_notice = ""  # the last one shown

    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        # What the terminal knows alone; the service's session tells the rest.
        self.terminal = terminal
        self.local_service = None  # a ServiceThread this app started (tests, replays), stopped with it
        self.counter: CounterClient | None = None
        self.session: Session | None = None
        self._session_day = None  # the local date the session came (its « today » moves on with it)
        self._reconnecting = None
        self._site_keymap: dict[str, str] = {}  # [keys] as the session gave it
        self._init_drafts()
        # The idle lock: the time of the last key (monotonic), whether a lock or
        # PIN screen is on top, and the screen changes workers asked for meanwhile.
        import time

        self._monotonic = time.monotonic
        self.last_key_at = self._monotonic()
        self.locked = False
        self._unlocking = False
        self._deferred: list[tuple] = []
        self._init_type_ahead()
        # The purpose of the family visit's consultations (asked at the first dossier,
        # forgotten back at the search); tests may preset one.
        self.purpose_preset: str | None = None
        self.visit_purpose: str | None = None
        self.title = "Guichet unique"
        self.theme = choose_theme(terminal.theme, os.environ)
        if self.no_color:
            self._write_no_colour()
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # Thin clients: every animated frame crosses the network.
            self.animation_level = "none"

    def run(self, *, headless: bool = False, **kwargs):
        """On the terminal (`counter`): refused with NoTerminal, before anything is
        drawn, when stdin, stdout or stderr is not a terminal. Headless runs (tests,
        replays: ``run_test``) have none and need none."""
        if not headless and not has_terminal():
            raise NoTerminal()
        return super().run(headless=headless, **kwargs)

    # -- what the session says (the terminal's own guess before it comes) ----------------------

    @property
    def training(self) -> bool:
        return self.session.training if self.session is not None else self.terminal.training

    @property
    def login(self) -> str:
        return self.session.login if self.session is not None else self.terminal.login

    @property
    def town_name(self) -> str:
        return self.session.town_name if self.session is not None else ""

    @property
    def rules(self):
        return self.session.rules if self.session is not None else None

    @property
    def scenario(self):
        return self.session.scenario if self.session is not None else None

    def today(self):
        """The service's day (a scenario's in training), moving on at midnight with the terminal's."""
        from datetime import date

        if self.session is None:
            return date.today()
        return self.session.today + (date.today() - self._session_day)

    def watch_theme(self, theme: str) -> None:
        # 16 colours: app.tcss marks the cursor row by style as well (see -few-colours).
        self.set_class(theme.startswith("ansi"), "-few-colours")

    def _write_no_colour(self) -> None:
        """NO_COLOR means no colour written at all: Textual's own filter for it
        (Monochrome) still writes greys as 24-bit colours. Colour-free segments
        instead; what colour showed (the cursor row, the highlighted option) is
        shown by style in app.tcss (``CounterApp:nocolor``)."""
        from textual.filter import Monochrome, NoColor

        # Textual keeps its line filters in a private list; the test of this
        # choice (tests/e2e/test_monochrome.py) reads what reaches the terminal.
        self._filters = [NoColor() if isinstance(f, Monochrome) else f for f in self._filters]

    # -- keys typed ahead (screens/typeahead.py) ------------------------------------------

    def key_typed(self, event) -> None:
        self.last_key_at = self._monotonic()

    def keys_wait(self) -> bool:
        # Start-up: the search screen takes no key before the app knows whether
        # a PIN is to be chosen (first use) or typed (production starts locked).
        return super().keys_wait() or (isinstance(self.screen, SearchScreen) and not self.pin_checked)

    def get_system_commands(self, screen):
        """Textual's own palette entries, in French (the app's are in CounterCommands).

        Textual's « Screenshot » is left out: it would write the screen, a
        citizen's dossier included, to an SVG file in the working directory.
        """
        from textual.app import SystemCommand

        yield SystemCommand("Thème", "Changer les couleurs de l'écran", self.action_change_theme)
        yield SystemCommand("Quitter", "Fermer le guichet (Ctrl+Q)", self.action_quit)
        if screen.query("HelpPanel"):
            yield SystemCommand("Touches", "Masquer l'aide des touches", self.action_hide_help_panel)
        else:
            yield SystemCommand("Touches", "Afficher l'aide du champ actif et les touches de l'écran",
                                self.action_show_help_panel)
        if screen.maximized is not None:
            yield SystemCommand("Réduire", "Rendre au bloc agrandi sa taille normale", screen.action_minimize)
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand("Agrandir", "Agrandir le bloc actif à tout l'écran", screen.action_maximize)

    def get_default_screen(self) -> SearchScreen:
        return SearchScreen()

    def on_mount(self) -> None:
        # Production starts locked: the lock is in front from the first frame, so
        # what is typed meanwhile (the PIN, surely) goes to it, never to the search.
        if not self.terminal.training:
            self.lock()
        # After the first frame (the app's first refresh lays the screen out, the
        # next one paints it): the client's imports would otherwise compete with
        # the first paint for the interpreter.
        self.call_after_refresh(self.call_after_refresh, self.connect_service)
        self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle_lock)
        self.visit_purpose = self.purpose_preset
        self.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen) -> None:
        if isinstance(screen, SearchScreen):  # the family's visit is over
            self.visit_purpose = self.purpose_preset

    # -- the idle lock -------------------------------------------------------------------

    def utc_now(self):
        from counter.clock import utc_now

        return utc_now()

    def check_idle_lock(self, now: float | None = None) -> bool:
        """Lock when no key came for ``idle_lock_minutes``; ``now`` (monotonic seconds)
        lets tests drive the clock. True if it locked."""
        now = self._monotonic() if now is None else now
        if self.locked or self.session is None or not self.pin_checked:
            return False
        if now - self.last_key_at >= self.session.idle_lock_minutes * 60:
            self.lock()
            return True
        return False

    def action_lock(self) -> None:
        if self.session is not None and self.pin_checked:
            self.lock()

    def lock(self, setup: bool = False) -> None:
        """Cover everything with the lock screen (or the PIN setup); the stack stays beneath."""
        from screens.lock import LockScreen, PinSetup

        if self.locked:
            return
        self.locked = True
        self._close_palette()
        # The first-use setup opens over the search the agent may be typing in:
        # what is typed before it shows is kept for the search (covers_typing).
        super().push_screen(PinSetup(covers_typing=True) if setup else LockScreen())

    def _close_palette(self) -> None:
        from textual.command import CommandPalette

        while isinstance(self.screen, CommandPalette):
            super().pop_screen()

    def unlock(self) -> None:
        from screens.lock import _Guard

        if not self.locked or not isinstance(self.screen, _Guard):
            return
        self._unlocking = True
        try:
            super().pop_screen()
        finally:
            self._unlocking = False
        self.locked = False
        self.last_key_at = self._monotonic()
        deferred, self._deferred = self._deferred, []
        for kind, args, kwargs in deferred:
            getattr(self, kind)(*args, **kwargs)
        # Typed before the setup covered the search, then after the code: for the screen now in front.
        self.unpark_keys()
        self.call_later(self.release_keys)

    def replace_guard(self, guard) -> None:
        """Production's start lock becomes the PIN setup (an agent without a PIN yet)."""
        from screens.lock import _Guard

        if not isinstance(self.screen, _Guard):
            return
        self._unlocking = True
        try:
            super().pop_screen()
        finally:
            self._unlocking = False
        super().push_screen(guard)
        self.call_after_refresh(self.release_keys)

    def push_screen(self, screen, callback=None, wait_for_dismiss: bool = False):
        # While locked, a worker's new screen waits for the unlock (it would cover the lock).
        if self.locked and not wait_for_dismiss:
            self._deferred.append(("push_screen", (screen,), {"callback": callback}))
            return self._done()
        return super().push_screen(screen, callback=callback, wait_for_dismiss=wait_for_dismiss)

    def switch_screen(self, screen):
        if self.locked:
            self._deferred.append(("switch_screen", (screen,), {}))
            return self._done()
        return super().switch_screen(screen)

    def pop_screen(self):
        # A screen beneath the lock dismissing itself (a worker done) must not pop the lock.
        if self.locked and not self._unlocking:
            self._deferred.append(("pop_screen", (), {}))
            return self._done()
        return super().pop_screen()

    def _done(self):
        from textual.await_complete import AwaitComplete

        async def nothing() -> None:
            return None

        return AwaitComplete(nothing()).call_next(self)

    def action_switch_link(self) -> None:
        """Training's bus: the trainer cuts the link to the town hall, or restores it."""
        session = self.session
        if session is not None and session.link_switch and not self.locked:
            self.switch_link(session.offline_since is not None)

    @work(thread=True, exclusive=True, group="training-link", exit_on_error=False)
    def switch_link(self, up: bool) -> None:
        from screens.base import failure_message

        try:
            self.counter.switch_link(up)
            session = self.counter.session()
        except Exception as exc:  # noqa: BLE001 — said in French (failure_message)
            message = failure_message(exc, unreachable="Liaison inchangée : service du guichet injoignable.")
            self.call_from_thread(self.notify, message, severity="error", timeout=8, markup=False)
            return
        self.call_from_thread(self._session_refreshed, session)
        said = ("Liaison avec la mairie rétablie (formation) : ce qui a été saisi à bord part à la mairie."
                if up else "Liaison avec la mairie coupée (formation) : le bus travaille sur sa copie.")
        self.call_from_thread(self.notify, said, timeout=8, markup=False)

    def action_audit(self) -> None:
        if self.session is not None and not self.locked:
            self.open_audit()

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def open_audit(self) -> None:
        """The audit screen, for supervisors: the service refuses anyone else (and audits
        the attempt), and the agent is told why."""
        from screens.base import failure_message

        try:
            overview = self.counter.audit_recent()
        except Exception as exc:  # noqa: BLE001 — said in French (failure_message)
            message = failure_message(exc, unreachable="Journal d'audit indisponible : service du guichet injoignable.")
            self.call_from_thread(self.notify, message, severity="error", timeout=8, markup=False)
            return
        from screens.audit import AuditScreen

        self.call_from_thread(self.push_screen, AuditScreen(overview.entries, overview.broken))

    def action_command_palette(self) -> None:
        if not self.locked:
            super().action_command_palette()

    async def _pin_decided(self, has_pin: bool) -> None:
        from screens.lock import LockScreen

        self.pin_checked = True  # the search screen takes the focus
        if self.training and not self.terminal.training and isinstance(self.screen, LockScreen):
            # Locked at the first frame on a guess (a site's socket), but the service trains
            # (a training room): training asks no PIN at start.
            self.unlock()
        elif not self.training and self.terminal.training:
            # A private service is always a training one; should it not be, lock now.
            self.lock()
        if self.training:
            # What was typed meanwhile was typed at the search screen: it takes it,
            # at once or, when the PIN setup comes in front (first use), after it.
            if has_pin:
                await self.release_keys()
            else:
                self.park_keys()
                self.lock(setup=True)
        elif isinstance(self.screen, LockScreen):  # production: locked since the start
            self.screen.decided(has_pin)

    # -- the counter service ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="service", exit_on_error=False)
    def connect_service(self, retry: bool = False) -> None:
        """Reach the service and learn the session: who the kernel says we are, where, which rules."""
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            if self.counter is None:
                self.counter = self.terminal.connect()
                self.counter.connection.on_state(self._service_state)
            session = self.counter.session(retry)
        except ServiceUnavailable:
            self.call_from_thread(self._service_state, False)
            return
        except Refused as exc:  # not an agent here, another protocol version…
            self.call_from_thread(self._services_failed, exc.problem.message)
            return
        self.call_from_thread(self._session_ready, session)

    def _service_state(self, up: bool) -> None:
        """The connection went or came back (any thread)."""
        import threading

        if threading.get_ident() != self._thread_id:
            self.call_from_thread(self._service_state, up)
            return
        if up:
            self.service_down = ""
            if self._reconnecting is not None:
                self._reconnecting.stop()
                self._reconnecting = None
            return
        if not self.service_down:
            from datetime import datetime

            self.service_down = (f"Service du guichet injoignable depuis {datetime.now():%H:%M} : "
                                 "reconnexion automatique… (ce qui est saisi reste à l'écran)")
        if self._reconnecting is None:
            self._reconnecting = self.set_interval(self.RECONNECT_SECONDS, self._try_again)

    def _try_again(self) -> None:
        if self.session is None:
            self.connect_service()
        else:
            self.ping_service(revive=True)

    @work(thread=True, exclusive=True, group="service-ping", exit_on_error=False)
    def ping_service(self, revive: bool = False) -> None:
        """The session again: keeps the connection (and a private service) alive while the
        terminal is open, follows the service's day; after a failure, revives a private one."""
        from counter.client.errors import Refused, ServiceUnavailable

        if revive and self.terminal.revive is not None:
            try:
                self.terminal.revive()
            except Exception:  # noqa: BLE001 — tried again at the next round
                import logging

                logging.getLogger("counter").warning("the private service could not be started again")
        try:
            session = self.counter.session()  # back: the state listener clears the message
        except (ServiceUnavailable, Refused):
            return
        self.call_from_thread(self._session_refreshed, session)

    def _session_refreshed(self, session: Session) -> None:
        from datetime import date

        self.session, self._session_day = session, date.today()
        self._warnings(session)
        self._apply_keymap(session)

    def _warnings(self, session: Session) -> None:
        from counter.domain.mobile import offline_line

        self.sync_warning = session.sync_warning
        # Against the terminal's own date: offline_since is the service's real clock, not a
        # scenario's day.
        self.link_warning = offline_line(session.offline_since, session.bus)
        # The bus's last sending back to the town hall: told once, as it arrives.
        if session.tour_notice and session.tour_notice != self._tour_notice:
            self.notify(session.tour_notice, title="Bus : envoi à la mairie", severity="warning",
                        timeout=self.TOUR_NOTICE_SECONDS, markup=False)
        self._tour_notice = session.tour_notice or self._tour_notice

    def _apply_keymap(self, session: Session) -> None:
        """The site's [keys], checked by the service: the footer and the keys follow them."""
        keymap = dict(session.keymap)
        if keymap != self._site_keymap:
            self._site_keymap = keymap
            self.set_keymap(keymap)

    @work(thread=True, exclusive=True, group="drafts", exit_on_error=False)
    def offer_drafts(self) -> None:
        """After a crash or a power cut, the agent's unfinished visit is offered back."""
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            drafts = self.counter.visit_drafts()
        except (ServiceUnavailable, Refused):  # the status line says why; nothing to offer meanwhile
            return
        if drafts:
            self.call_from_thread(self._offer, drafts[0])

    def _offer(self, draft) -> None:
        from datetime import UTC

        from screens.visit import ConfirmVisit, VisitScreen

        where = f"le foyer F-{draft.household_id:05d}" if draft.household_id else "une personne"
        saved_at = draft.saved_at
        # Stored in UTC (SQLite gives it back without its zone).
        when = (saved_at if saved_at.tzinfo else saved_at.replace(tzinfo=UTC)).astimezone().strftime("%d/%m/%Y à %H:%M")
        lines = [f"Une visite pour {where} n'a pas été terminée ({draft.requests} demande(s), "
                 f"enregistrée le {when}).", "La reprendre ?"]

        def done(resume: bool | None) -> None:
            if resume:
                self.push_screen(VisitScreen(draft.visit_id))

        self.push_screen(ConfirmVisit(lines, title="Visite en cours", yes="Reprendre"), done)

    def _session_ready(self, session: Session) -> None:
        from datetime import date

        self.session, self._session_day = session, date.today()
        self._warnings(session)
        self._apply_keymap(session)
        self.title = f"Guichet unique · {session.town_name}"
        if self.terminal.theme == "auto" and session.theme != "auto":  # the site's [ui] theme
            self.theme = choose_theme(session.theme, os.environ)
        for notice in session.notices:
            self.notify(notice, severity="error", timeout=10, markup=False)
        if self.ready:
            return
        self.problem = ""
        self.ready = True
        self.call_later(self._pin_decided, session.has_pin)
        self.offer_drafts()
        every = self.BUS_SESSION_REFRESH_SECONDS if session.bus else self.SESSION_REFRESH_SECONDS
        self.set_interval(every, self.ping_service)

    def _services_failed(self, message: str) -> None:
        self.problem = message

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_services":
            return bool(self.problem) and not self.ready
        if action == "scenario_help":
            return self.scenario is not None
        return True

    def watch_problem(self) -> None:
        self.refresh_bindings()

    def run_on_search(self, action: str) -> None:
        """A search-screen action from the palette, wherever the agent is."""
        self.action_new_search()
        if isinstance(self.screen, SearchScreen):
            getattr(self.screen, f"action_{action}")()

    def action_new_search(self) -> None:
        """Back to an empty search, whatever screen is open."""
        if self.locked:
            return
        while not isinstance(self.screen, SearchScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        if isinstance(self.screen, SearchScreen):
            self.screen.clear_query()

    def action_scenario_help(self) -> None:
        from screens.scenario import ScenarioHelp

        if self.scenario is not None and not isinstance(self.screen, ScenarioHelp):
            self.push_screen(ScenarioHelp(self.scenario))

    def action_retry_services(self) -> None:
        if not self.ready:
            self.problem = ""
            self.call_after_refresh(self.connect_service, True)

    async def on_unmount(self) -> None:
        if self.counter is not None:
            self.counter.close()
        if self.local_service is not None:
            import asyncio

            await asyncio.to_thread(self.local_service.stop)
