"""A consultation is audited with a purpose from the short list, whoever asks."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from counter.domain.purposes import PURPOSES
from counter.services.audit import Actor
from counter.services.dossier import ConsultationRefused, DossierService


def consultations(store) -> list[dict]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT details FROM audit_entry WHERE action = 'dossier.consult' ORDER BY seq")).all()
    return [json.loads(r.details) for r in rows]


def test_a_purpose_off_the_list_is_refused_and_nothing_is_audited(store):
    service = DossierService(store, backends=[], clock=None)
    agent = Actor("agent1", "agent", "poste-1")
    with pytest.raises(ConsultationRefused, match="Motif de consultation inconnu") as refused:
        service.record_consultation(agent, 1, [], "par curiosité")
    assert "not a consultation purpose" in refused.value.english()
    assert consultations(store) == []
    service.record_consultation(agent, 1, [], PURPOSES[1])
    assert [entry["purpose"] for entry in consultations(store)] == ["Information de la famille"]
