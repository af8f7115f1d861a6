"""What a screen says when a call to the counter service failed: French, in one place."""

from __future__ import annotations

import logging

from counter.client.errors import Refused, ServiceUnavailable
from counter.wire.problems import Problem
from screens.base import failure_message


def test_a_refusal_is_said_in_the_services_own_words():
    refused = Refused(Problem("unavailable", "Base de données indisponible."))
    assert failure_message(refused) == "Base de données indisponible."
    assert failure_message(refused, "Visite non commencée : {reason}") == \
        "Visite non commencée : Base de données indisponible."
    assert failure_message(refused, "La recherche a échoué : {reason_lower}") == \
        "La recherche a échoué : base de données indisponible."


def test_the_service_gone_is_said_as_a_failure_in_other_words_or_not_at_all():
    gone = ServiceUnavailable()
    assert failure_message(gone, "NIR non affiché : {reason}") == "NIR non affiché : Service du guichet injoignable"
    assert failure_message(gone, unreachable="Détail indisponible : service du guichet injoignable.") == \
        "Détail indisponible : service du guichet injoignable."
    assert failure_message(gone, "La recherche a échoué : {reason_lower}", unreachable=None) is None


def test_a_fault_of_ours_is_logged_and_said_without_its_details(caplog):
    # counter.logs stops the propagation once a test has set the log up in this process:
    # listen on the counter logger itself.
    logger = logging.getLogger("counter")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR, logger="counter"):
            said = failure_message(KeyError("\x1b]52;c;secret\x07"), "Visite non abandonnée : {reason}")
    finally:
        logger.removeHandler(caplog.handler)
    assert said == "Visite non abandonnée : erreur inattendue"
    assert caplog.records and caplog.records[0].exc_info[0] is KeyError
    assert failure_message(ZeroDivisionError()) == "Erreur inattendue"
