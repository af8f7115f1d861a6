"""The composition root of a terminal: one factory used by the CLI, the tests,
the replays and the benchmarks.

``build_terminal_app`` wires a terminal to its service without opening
anything (the app connects after its first frame); ``build_app`` first starts
a service in this process (tests, replays, a terminal without its own
service), then does the same. The service's own parts are composed in
``counter.service.composition``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from screens.app import CounterApp

    from counter.client.terminal import Terminal
    from counter.runtime import Runtime
    from counter.service.composition import Services


def build_terminal_app(terminal: Terminal) -> CounterApp:
    """The terminal's app: screens that talk to the service ``terminal`` reaches."""
    from screens.app import CounterApp

    return CounterApp(terminal)


def build_app(runtime: Runtime, services: Services | None = None, *, service=None) -> CounterApp:
    """The app for ``runtime``, on a service in this process (tests, replays).

    ``services``: an open store and agencies for the service to use (tests);
    ``service``: a ServiceThread already running for it. The app stops the
    service it was given or started when it ends.
    """
    from counter.client.api import CounterClient
    from counter.client.terminal import Terminal

    if service is None:
        from counter.service.local import start_local_service

        # The service owns the agencies (dossiers, the visits' answers), the outbox relay
        # and the waiting-list sync: it gets the backends the caller built (tests),
        # else builds the runtime's (training: the emulated agencies).
        backends = None
        if services is not None and services.dossier is not None:
            backends = list(services.dossier.backends.values())
        service = start_local_service(runtime, store=services.store if services else None, backends=backends)
    socket_path = service.service.socket_path
    app = build_terminal_app(Terminal(connect=lambda: CounterClient.at(socket_path), theme=runtime.theme,
                                      training=runtime.training, login=runtime.agent_login))
    app.local_service = service
    return app
