"""The counter in training mode with its agencies never connected.

For the memory figure only: in training the agencies are emulated in-process
(their data included), which a production counter does not carry — it talks
to the real agencies over HTTP. Everything else is the real `counter`.
"""

from screens.app import CounterApp


def _never(self) -> None:
    return None


if __name__ == "__main__":
    CounterApp.ensure_agencies = _never
    from counter.cli import main

    raise SystemExit(main([]))
