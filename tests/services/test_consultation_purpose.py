"""A consultation is audited with a purpose from the short list, whoever asks."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from counter.domain.purposes import PURPOSES
from counter.services.dossier import DossierService


def consultations(store) -> list[dict]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT details FROM audit_entry WHERE action = 'dossier.consult' ORDER BY seq")).all()
    return [json.loads(r.details) for r in rows]


def test_a_purpose_off_the_list_is_refused_and_nothing_is_audited(store):
    service = DossierService(store, backends=[], clock=None, agent="agent1", host="poste-1")
    with pytest.raises(ValueError, match="not a consultation purpose"):
        service.record_consultation(1, [], "par curiosité")
    assert consultations(store) == []
    service.record_consultation(1, [], PURPOSES[1])
    assert [entry["purpose"] for entry in consultations(store)] == ["Information de la famille"]
