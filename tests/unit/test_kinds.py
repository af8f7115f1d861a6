"""The kinds of registration, found through the counter.registrations entry points."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from counter.domain.kinds import MAX_KIND_ID, RegistrationKind, UnknownKind, all_kinds, kind, kind_of, label
from counter.domain.visits import Request, VisitDraft
from counter.wire import codec
import counter.wire.api.visits  # noqa: F401  (registers the requests' wire tags)
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest

SAMPLES = [
    SchoolRequest(1, 2027, "MS", 3, 3, canteen_days=("lun", "jeu"), separated_parents=False),
    CrecheRequest((2, 1), date(2027, 9, 1), 4, 32.5, person_id=None, due_date=date(2027, 3, 1)),
    LibraryRequest(5, "ENFANT", guarantor_id=6),
]


def test_the_built_in_kinds_are_installed_in_their_order():
    assert [k.id for k in all_kinds()] == ["school", "creche", "library", "alsh"]
    assert [k.label for k in all_kinds()] == ["École", "Crèche", "Bibliothèque", "Loisirs"]


def test_every_kind_declares_what_the_counter_needs():
    keys = [k.key for k in all_kinds()]
    assert len(set(keys)) == len(keys)
    for plugin in all_kinds():
        assert isinstance(plugin, RegistrationKind)
        assert 0 < len(plugin.id) <= MAX_KIND_ID
        assert issubclass(plugin.request_type, Request)
        assert plugin.capacity in ("places", "waiting_list", "none")
        assert plugin.target and plugin.key_label


@pytest.mark.parametrize("request_", SAMPLES, ids=lambda r: type(r).__name__)
def test_a_request_round_trips_through_drafts_and_the_wire(request_):
    assert kind_of(request_).request_type is type(request_)
    draft = VisitDraft(household_id=1, requests=[request_])
    assert VisitDraft.from_json(draft.to_json()).requests == [request_]
    assert codec.decode(codec.encode(draft), VisitDraft).requests == [request_]


def test_an_unknown_kind_is_said_as_such():
    with pytest.raises(UnknownKind):
        kind("alsh-not-installed")
    with pytest.raises(ValueError):  # a draft naming it is refused like any unreadable draft
        VisitDraft.from_json('{"requests": [{"kind": "nope"}]}')
    assert label("nope") == "nope"


def test_a_kinds_form_loads_without_the_service_side():
    code = ("import sys; from counter.domain.kinds import all_kinds\n"
            "[k.form() for k in all_kinds()]\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'sqlmodel', 'pydantic', 'alembic', 'psycopg') or m.startswith('counter.store') "
            "or m.startswith('counter.services') or m.endswith('.service')]\n"
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
