"""counter: the guichet unique application for a town hall's family services.

The core package: domain rules, services, storage, configuration and the CLI.
It never imports Textual, ``screens``, ``backends`` or ``fixtures`` at module
level (see docs/architecture.md).
"""

__version__ = "0.1.0"
