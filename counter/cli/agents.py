"""`counter agents add|list|disable|reset-pin|enable`: who may use the counter
(administrators, English). Through the counter service (counter.cli.admin) or,
a configuration file given, direct on the database."""

from __future__ import annotations

import argparse

from counter.cli import common
from counter.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from counter.domain.text import shown
from counter.terminal import echo


def register(commands: argparse._SubParsersAction) -> None:
    agents = commands.add_parser("agents", help="manage the agents allowed to use the counter")
    agent_commands = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    add = agent_commands.add_parser("add", help="register an agent (their operating-system login)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=("agent", "supervisor", "trainer"))
    add.add_argument("--name", default="", help="display name")
    agent_commands.add_parser("list", help="list the agents")
    disable = agent_commands.add_parser("disable", help="disable an agent")
    disable.add_argument("login")
    reset = agent_commands.add_parser("reset-pin", help="clear an agent's PIN (they set a new one at the next start)")
    reset.add_argument("login")
    enable = agent_commands.add_parser("enable", help="enable a disabled agent again (role kept)")
    enable.add_argument("login")


def run(runtime, args) -> int:
    from counter.services.agents import AgentError, AgentService

    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    from counter.services import audit

    try:
        actor = audit.actor_for(store, runtime.agent_login, runtime.training)
        return agents_command(args, DirectAgents(AgentService(store), store, actor))
    except AgentError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_FAILED
    except audit.Forbidden as exc:
        hint = ("" if audit.has_supervisor(store) else
                f" (no supervisor yet: add one first, e.g. 'counter agents add {runtime.agent_login} --role supervisor')")
        echo(f"counter: {exc.english()}{hint}", err=True)
        return EXIT_USAGE
    finally:
        store.dispose()


class DirectAgents:
    """`counter agents` on the database (a configuration file given); the counter
    service's client offers the same calls (counter.client.calls.admin)."""

    def __init__(self, service, store, actor) -> None:
        self.service, self.store, self.actor = service, store, actor

    def agents_add(self, login: str, role: str, display_name: str):
        return self.service.add(login, role, display_name, by=self.actor)

    def agents_disable(self, login: str):
        return self.service.disable(login, by=self.actor)

    def agents_enable(self, login: str):
        return self.service.enable(login, by=self.actor)

    def agents_reset_pin(self, login: str) -> None:
        from counter.services.agents import AgentError
        from counter.services.lock import LockService

        try:
            LockService(self.store).reset(login, self.actor)
        except LookupError:
            raise AgentError(f"no agent {login[:64]!r}") from None

    def agents_list(self):
        return self.service.list()


def agents_command(args, agents) -> int:
    """`counter agents ACTION` with ``agents`` the database or the counter service."""
    if args.agents_command == "add":
        agent = agents.agents_add(args.login, args.role, args.name)
        echo(f"agent {agent.login} added ({agent.role})")
    elif args.agents_command == "disable":
        agent = agents.agents_disable(args.login)
        echo(f"agent {agent.login} disabled")
    elif args.agents_command == "reset-pin":
        agents.agents_reset_pin(args.login)
        echo(f"PIN of {args.login} cleared: they choose a new one at their next start")
    elif args.agents_command == "enable":
        agent = agents.agents_enable(args.login)
        echo(f"agent {agent.login} enabled ({agent.role})")
    else:
        listed = agents.agents_list()
        if not listed:
            echo("no agents registered")
        for agent in listed:
            state = "active" if agent.active else "disabled"
            echo(f"{shown(agent.login, 64):<20} {agent.role:<11} {state:<9} {shown(agent.display_name, 80)}")
    return EXIT_OK
