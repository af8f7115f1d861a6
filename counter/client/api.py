"""Typed calls on the counter service: what the screens and the commands use.

Each method is one endpoint of ``counter.wire.api``; it raises
``ServiceUnavailable`` when the service does not answer and ``Refused`` when it
says no (``exc.problem.message`` is the French sentence to show).
"""

from __future__ import annotations

from pathlib import Path

from counter.client.calls.admin import AdminCalls
from counter.client.calls.audit import AuditCalls
from counter.client.calls.dossier import DossierCalls
from counter.client.calls.duplicates import DuplicateCalls
from counter.client.calls.families import FamilyCalls
from counter.client.calls.front_desk import FrontDeskCalls
from counter.client.calls.outbox import OutboxCalls
from counter.client.calls.people import PeopleCalls
from counter.client.calls.registrations import RegistrationCalls
from counter.client.calls.session import SessionCalls
from counter.client.calls.statistics import StatisticsCalls
from counter.client.calls.sync import SyncCalls
from counter.client.calls.visits import VisitCalls
from counter.client.connection import Connection


class CounterClient(SessionCalls, PeopleCalls, DossierCalls, VisitCalls, FamilyCalls, RegistrationCalls,
                    OutboxCalls, AuditCalls, AdminCalls, DuplicateCalls, SyncCalls, FrontDeskCalls,
                    StatisticsCalls):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @classmethod
    def at(cls, socket_path: str | Path) -> CounterClient:
        return cls(Connection(socket_path))

    def close(self) -> None:
        self.connection.close()
