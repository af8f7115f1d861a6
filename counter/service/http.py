"""The service's HTTP face: ``POST /v1/<endpoint>`` with a JSON body, answered in JSON.

Every request is tied to the kernel's word on who sent it (the socket's peer
credentials); the body never names the agent. Refusals travel as a Problem
(French for the agent, English for the administrators' commands).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from counter.service.peer import SCOPE_KEY
from counter.wire import PREFIX, codec
from counter.wire.problems import Problem

log = logging.getLogger("counter.service")

JSON = "application/json"
NDJSON = "application/x-ndjson"
MAX_BODY = 1024 * 1024  # a visit draft is a few KB; imports stream through their own endpoints


def problem_response(problem: Problem) -> Response:
    return Response(codec.encode(problem), status_code=problem.status, media_type=JSON)


def problem_of(exc: BaseException, training: bool = False) -> Problem:
    """The wire form of a refusal raised by the core; anything else is a fault."""
    from counter.domain.pins import PinError
    from counter.service.core import NotAnAgent, NotReady
    from counter.services.audit import Forbidden
    from counter.wire.codec import WireFormatError

    if isinstance(exc, Forbidden):
        return Problem("forbidden", str(exc), exc.english())
    if isinstance(exc, NotAnAgent):
        return Problem("unknown_agent", str(exc), "refused: this account is not an active agent of the counter")
    if isinstance(exc, NotReady):
        return Problem("unavailable", str(exc), "the service cannot open its database (see its log)")
    if isinstance(exc, WireFormatError):
        return Problem("bad_request", "Demande illisible pour le service du guichet.", f"bad request: {exc}")
    if isinstance(exc, PinError):
        return Problem("refused", str(exc))
    for refusal in _refusals():
        if isinstance(exc, refusal):
            english = exc.english() if hasattr(exc, "english") else ""
            return Problem("refused", str(exc), english, getattr(exc, "field", None))
    if isinstance(exc, LookupError):
        return Problem("not_found", "Introuvable : la fiche a peut-être été supprimée.", "not found")
    from counter.store import failures

    failure = failures.classify(exc)
    if failure.kind != failures.UNKNOWN:  # the database behind the service: named for who must act
        log.error("request failed: %s", failure.log_reason())
        return Problem("unavailable", failures.agent_message(exc, "", training=training), failures.admin_message(exc))
    log.error("request failed", exc_info=exc)
    return Problem("internal", "Erreur interne du service du guichet : prévenez l'administrateur.",
                   "internal error in the counter service (see its log)")


def _refusals() -> tuple[type[BaseException], ...]:
    """The core's own refusals (a rule says no, with a French message)."""
    from counter.domain.front_desk import FrontDeskError
    from counter.service.core import TrainingOnly
    from counter.services.agents import AgentError
    from counter.services.dossier import ConsultationRefused
    from counter.services.duplicate_review import DuplicateError
    from counter.services.families import FamilyError
    from counter.services.registrations import RegistrationError
    from counter.services.statistics import StatisticsError
    from counter.services.visits import VisitError

    return (VisitError, FrontDeskError, FamilyError, RegistrationError, AgentError, ConsultationRefused,
            DuplicateError, TrainingOnly, StatisticsError)


def build_http_app(core) -> Starlette:
    import anyio

    from counter.service.handlers import all_handlers

    handlers = all_handlers()

    async def dispatch(request: Request) -> Response:
        name = request.path_params["name"]
        found = handlers.get(name)
        if found is None:
            return problem_response(Problem("not_found", "Demande inconnue du service du guichet.",
                                            f"no endpoint {name!r} in protocol {PREFIX}"))
        endpoint, handler = found
        peer = request.scope.get(SCOPE_KEY)
        if peer is None:
            return problem_response(Problem("unknown_agent", "Accès refusé : connexion sans identité.",
                                            "refused: only Unix-socket peers are served"))
        try:
            body = await _body(request)
            args = codec.decode(body or b"{}", endpoint.args) if endpoint.args is not None else None
            # F5 on a terminal asks for the session again, retrying a store that failed to open.
            retry = bool(getattr(args, "retry", False)) and name == "session"
            if endpoint.stream:
                actor = await anyio.to_thread.run_sync(core.actor, peer.uid, retry)
                return StreamingResponse(_lines(handler(core, actor, args), core.runtime.training),
                                         media_type=NDJSON)
            # Who asks and the answer in one trip to a thread: a search is one request per keystroke.
            result = await anyio.to_thread.run_sync(_answer, core, handler, peer.uid, retry, args)
        except Exception as exc:  # noqa: BLE001 — every failure becomes a Problem
            return problem_response(problem_of(exc, core.runtime.training))
        return Response(codec.encode(result), media_type=JSON)

    async def other_version(request: Request) -> Response:
        return problem_response(Problem(
            "protocol", "Le terminal et le service du guichet n'ont pas la même version : "
                        "prévenez l'administrateur (le terminal doit être mis à jour).",
            f"this service speaks {PREFIX}; update the client"))

    return Starlette(routes=[
        Route(f"{PREFIX}/{{name:str}}", dispatch, methods=["POST"]),
        Route("/{version:str}/{name:str}", other_version, methods=["POST", "GET"]),
    ])


def _answer(core, handler, uid: int, retry: bool, args):
    return handler(core, core.actor(uid, retry), args)


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            from counter.wire.codec import WireFormatError

            raise WireFormatError("body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _lines(items, training: bool) -> Any:
    """Each item as one line ``{"item": …}``; a failure as a last line ``{"problem": …}``."""
    try:
        async for item in items:
            yield codec.encode({"item": codec.to_builtins(item)}) + b"\n"
    except Exception as exc:  # noqa: BLE001
        yield codec.encode({"problem": problem_of(exc, training)}) + b"\n"
