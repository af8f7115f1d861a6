"""Counter agents: the operating-system login is the agent's identity."""

from __future__ import annotations

import re

from sqlmodel import select

from counter.domain.agents import AgentView  # noqa: F401 (re-exported)
from counter.domain.text import has_controls
from counter.store.engine import Store
from counter.store.models import Agent, AgentRole

# ASCII: with IGNORECASE alone, [a-z] also takes the Kelvin sign and the long s.
_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,63}", re.IGNORECASE | re.ASCII)
MAX_DISPLAY_NAME = 120


class AgentError(Exception):
    """An agent operation was refused; the message says why."""


def _view(agent: Agent) -> AgentView:
    return AgentView(agent.login, agent.display_name, agent.role, agent.active)


class AgentService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _allow(self, by, target: str, *, adding_supervisor: bool = False) -> None:
        """Agents are managed by supervisors; the very first supervisor may be added by anyone."""
        from counter.services import audit

        if by is None:
            return
        if adding_supervisor and not audit.has_supervisor(self.store):
            return
        audit.require(self.store, by, "agents", "agent", target)

    def add(self, login: str, role: str, display_name: str = "", by=None) -> AgentView:
        """Register (or re-enable) an agent; ``by`` (an audit Actor) must be a supervisor
        unless no supervisor exists yet and this adds one. Audited."""
        # fullmatch: "$" would let a trailing line break through.
        if not _LOGIN.fullmatch(login):
            raise AgentError(f"invalid login {login[:64]!r}: letters, digits, '_', '.', '-' only "
                             "(64 characters at most, not starting with a digit)")
        if has_controls(display_name):
            raise AgentError("invalid display name: control or invisible characters are not allowed")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise AgentError(f"invalid display name: {MAX_DISPLAY_NAME} characters at most")
        roles = [r.value for r in AgentRole]
        if role not in roles:
            raise AgentError(f"invalid role {role!r}: choose one of {', '.join(roles)}")
        self._allow(by, login, adding_supervisor=role == AgentRole.SUPERVISOR.value)
        with self.store.write() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            if agent is not None and agent.active:
                raise AgentError(f"agent {login!r} already exists")
            if agent is None:
                agent = Agent(login=login, role=role, display_name=display_name)
            else:  # re-enabling a disabled agent
                agent.active, agent.role = True, role
                agent.display_name = display_name or agent.display_name
            session.add(agent)
            session.flush()
            self._audit(session, by, "agent.add", login, {"role": role})
            return _view(agent)

    def _audit(self, session, by, action: str, login: str, details: dict | None = None) -> None:
        from counter.services import audit

        actor = by or audit.Actor.here("system", "")
        audit.record(self.store, actor, action, "agent", login, details, session=session)

    def list(self) -> list[AgentView]:
        with self.store.read() as session:
            return [_view(a) for a in session.exec(select(Agent).order_by(Agent.login))]

    def disable(self, login: str, by=None) -> AgentView:
        return self._set_active(login, False, by)

    def enable(self, login: str, by=None) -> AgentView:
        """A disabled agent back at the counter, with the role they had."""
        return self._set_active(login, True, by)

    def _set_active(self, login: str, active: bool, by) -> AgentView:
        """Disabling and enabling: a supervisor's action (``by``), audited."""
        self._allow(by, login)
        with self.store.write() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            if agent is None:
                hint = ": add them with 'counter agents add'" if active else ""
                raise AgentError(f"no agent {login[:64]!r}{hint}")
            agent.active = active
            session.add(agent)
            session.flush()
            self._audit(session, by, "agent.enable" if active else "agent.disable", login)
            return _view(agent)

    def get(self, login: str) -> AgentView | None:
        with self.store.read() as session:
            agent = session.exec(select(Agent).where(Agent.login == login)).first()
            return _view(agent) if agent else None
