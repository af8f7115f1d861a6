"""Unlocking the counter with the agent's PIN: set at first use, failures slowed and audited."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from counter.clock import utc_now
from counter.domain.pins import Unlock, check_rule, hash_pin, verify_pin
from counter.services import audit
from counter.store.engine import Store
from counter.store.models import Agent

FREE_TRIES = 3  # failures before each try waits
MAX_FAILURES = 10  # then the PIN is locked until a supervisor resets it
BASE_DELAY = 5  # seconds after the third failure, doubling after each one


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` consecutive failures."""
    if failures < FREE_TRIES:
        return 0
    return min(BASE_DELAY * 2 ** (failures - FREE_TRIES), 15 * 60)


class LockService:
    def __init__(self, store: Store, host: str | None = None, now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.host = host or socket.gethostname()
        self.now = now

    def _actor(self, login: str) -> audit.Actor:
        return audit.Actor(login, "", self.host)

    def has_pin(self, login: str) -> bool:
        with self.store.read() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            return bool(agent and agent.pin_hash)

    def set_pin(self, login: str, pin: str, *, by: str | None = None) -> None:
        """Set (or change) the PIN; raises PinError (French) for a PIN that breaks the rule."""
        check_rule(pin)
        digest = hash_pin(pin)
        with self.store.write() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            if agent is None:  # training: the trainee is not in the agents table yet
                agent = Agent(login=login, role="trainer")
            agent.pin_hash, agent.pin_failures, agent.pin_retry_at, agent.locked = digest, 0, None, False
            session.add(agent)
            audit.record(self.store, audit.Actor(by or login, "", self.host), "agent.pin_set", "agent", login,
                         session=session)

    def reset(self, login: str, by: audit.Actor) -> None:
        """A supervisor clears an agent's PIN: the agent sets a new one at the next start."""
        audit.require(self.store, by, "agents", "agent", login)
        with self.store.write() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            if agent is None:
                raise LookupError(login)
            agent.pin_hash, agent.pin_failures, agent.pin_retry_at, agent.locked = None, 0, None, False
            session.add(agent)
            audit.record(self.store, by, "agent.pin_reset", "agent", login, session=session)

    def unlock(self, login: str, pin: str) -> Unlock:
        now = self.now()
        with self.store.write() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            if agent is None or not agent.pin_hash:
                return Unlock(False, "Aucun code n'est défini pour cet agent.")
            if agent.locked:
                audit.record(self.store, self._actor(login), "unlock.refused", "agent", login,
                             {"reason": "locked"}, session=session)
                return Unlock(False, "Code bloqué après trop d'essais : un superviseur doit le réinitialiser.")
            retry_at = agent.pin_retry_at
            if retry_at is not None:
                retry_at = retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=UTC)
                if retry_at > now:
                    wait = max(1, int((retry_at - now).total_seconds() + 0.999))
                    return Unlock(False, f"Réessayez dans {wait} s.", wait)
            if verify_pin(pin, agent.pin_hash):
                agent.pin_failures, agent.pin_retry_at = 0, None
                session.add(agent)
                return Unlock(True)
            agent.pin_failures += 1
            failures = agent.pin_failures
            wait = delay_after(failures)
            agent.pin_retry_at = now + timedelta(seconds=wait) if wait else None
            if failures >= MAX_FAILURES:
                agent.locked = True
            session.add(agent)
            audit.record(self.store, self._actor(login), "unlock.failed", "agent", login,
                         {"failures": failures}, session=session)
        if failures >= MAX_FAILURES:
            return Unlock(False, "Code bloqué après trop d'essais : un superviseur doit le réinitialiser.")
        if wait:
            return Unlock(False, f"Code incorrect. Réessayez dans {wait} s.", wait)
        return Unlock(False, f"Code incorrect ({FREE_TRIES - failures} essai(s) avant attente).")
