"""The kinds of registration a visit records, one package each (school, crèche,
library…), registered under the ``counter.registrations`` entry-point group.

Each package holds three parts (the protocol: counter.domain.kinds):

- ``kind.py``: the declaration and the pure rules — the request type, its
  checks, papers, prices, receipt and registrations-screen wording; imports
  the domain only (the terminal and the service both load it);
- ``form.py``: the visit's form for it (Textual), loaded by the terminal only;
- ``service.py``: the store side — capacity at confirmation, the delivery
  payload, what a cancellation gives back — loaded by the service only.

The import-linter contracts in pyproject.toml hold these layers to account.
"""
