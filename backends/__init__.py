"""Agency adapters (API Particulier, Koha, the town's family system).

Each is a plugin behind the backend protocol of the core, discovered through
the ``counter.backends`` entry-point group (see docs/architecture.md).
"""
