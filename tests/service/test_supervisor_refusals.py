"""Cancelling, the outbox and the audit trail are a supervisor's: a request written by
hand on the service's socket, under an agent's account, is refused and audited
whatever it claims, on SQLite and PostgreSQL. The same request from the supervisor's
account goes through (the identity is what decides)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from counter.client.api import CounterClient
from counter.client.connection import Refused
from tests.serving import store_service
from tests.store.test_registrations_service import TODAY, world  # noqa: F401 (a fixture)

AGENT, SUPERVISOR = "guichet1", "chef"


def serving(store, tmp_path):
    """The real service (production) in a thread; ``peer["login"]`` is who the kernel says connects."""
    return store_service(store, tmp_path, AGENT, SUPERVISOR, TODAY)


def by_hand(socket_path: Path, name: str, body: dict) -> httpx.Response:
    """A request written by hand, claiming the supervisor's identity every way a client could."""
    claims = {"login": SUPERVISOR, "agent": SUPERVISOR, "role": "supervisor"}
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)), base_url="http://counter") as client:
        return client.post(f"/v1/{name}", content=json.dumps({**body, **claims}),
                           headers={"content-type": "application/json", "X-Counter-Agent": SUPERVISOR,
                                    "X-Remote-User": SUPERVISOR})


def audit_entries(store, action: str) -> list:
    with store.engine.connect() as c:
        return c.execute(text("SELECT agent, target_id, details FROM audit_entry WHERE action = :a ORDER BY seq"),
                         {"a": action}).all()


def one(store, sql: str, **params):
    with store.engine.connect() as c:
        return c.execute(text(sql), params).scalar_one()


def test_an_agent_cannot_cancel_a_registration_and_the_attempt_is_audited(store, world, tmp_path):  # noqa: F811
    with serving(store, tmp_path) as (socket_path, peer):
        refused = by_hand(socket_path, "registrations.cancel", {"registration_id": world.school, "reason": "départ"})
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        assert refused.json()["message"] == "Seul un superviseur peut annuler une inscription."
        assert one(store, "SELECT state FROM registration WHERE id = :id", id=world.school) != "cancelled"
        [entry] = audit_entries(store, "registration.cancel_refused")
        assert (entry.agent, entry.target_id) == (AGENT, str(world.school))
        assert json.loads(entry.details) == {"role": "agent"}

        peer["login"] = SUPERVISOR
        done = by_hand(socket_path, "registrations.cancel", {"registration_id": world.school, "reason": "départ"})
        assert done.status_code == 200 and done.json()["message"].startswith("Inscription annulée.")
    assert one(store, "SELECT cancelled_by FROM registration WHERE id = :id", id=world.school) == SUPERVISOR


def test_an_agent_can_neither_read_nor_relaunch_the_outbox_and_each_attempt_is_audited(
        store, world, tmp_path):  # noqa: F811
    with store.write_connection() as c:
        c.execute(text("UPDATE outbox SET state = 'refused', last_error = 'Refusé' WHERE registration_id = :r"),
                  {"r": world.school})
    message = one(store, "SELECT id FROM outbox WHERE registration_id = :r", r=world.school)
    with serving(store, tmp_path) as (socket_path, peer):
        listing = by_hand(socket_path, "outbox.messages", {"state": None})
        relaunch = by_hand(socket_path, "outbox.relaunch", {"message_id": message})
        assert (listing.status_code, listing.json()["code"]) == (403, "forbidden")
        assert (relaunch.status_code, relaunch.json()["code"]) == (403, "forbidden")
        assert listing.json()["message"] == "Réservé aux superviseurs : suivi des envois."
        assert one(store, "SELECT state FROM outbox WHERE id = :id", id=message) == "refused"
        assert [e.agent for e in audit_entries(store, "outbox.list_refused")] == [AGENT]
        assert [(e.agent, e.target_id) for e in audit_entries(store, "outbox.retry_refused")] == [(AGENT, str(message))]

        peer["login"] = SUPERVISOR
        assert by_hand(socket_path, "outbox.messages", {"state": "refused"}).json()[0]["id"] == message
        assert "relancé" in by_hand(socket_path, "outbox.relaunch", {"message_id": message}).json()
    assert one(store, "SELECT state FROM outbox WHERE id = :id", id=message) == "pending"


def test_an_agent_cannot_read_the_audit_trail_and_the_attempt_is_audited(store, world, tmp_path):  # noqa: F811
    with serving(store, tmp_path) as (socket_path, peer):
        refused = by_hand(socket_path, "audit.recent", {"limit": 50})
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert "consulter le journal d'audit" in refused.json()["message"]
        [entry] = audit_entries(store, "forbidden")
        assert entry.agent == AGENT and json.loads(entry.details) == {"action": "audit.view", "role": "agent"}

        peer["login"] = SUPERVISOR
        client = CounterClient.at(socket_path)  # what the audit screen asks, typed
        try:
            overview = client.audit_recent(50)
        finally:
            client.close()
    assert overview.broken is None and overview.checked >= 1
    assert (overview.entries[0].action, overview.entries[0].agent) == ("forbidden", AGENT)


def test_the_typed_client_gets_the_refusal_the_screens_show(store, world, tmp_path):  # noqa: F811
    with serving(store, tmp_path) as (socket_path, _peer):
        client = CounterClient.at(socket_path)
        try:
            with pytest.raises(Refused) as refused:
                client.cancel_registration(world.school, "départ")
            with pytest.raises(Refused) as listing:
                client.outbox_messages()
        finally:
            client.close()
    assert refused.value.code == listing.value.code == "forbidden"
    assert "'guichet1' (role agent) may not do 'registration.cancel'" in refused.value.english()
