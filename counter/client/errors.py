"""What a call on the counter service can raise (light: the terminal imports it before
its first frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from counter.wire.problems import Problem

UNAVAILABLE = "Service du guichet injoignable"


class ServiceUnavailable(Exception):
    """The service does not answer (stopped, restarting, socket gone); French message."""

    def __init__(self, message: str = UNAVAILABLE, english: str = "the counter service does not answer") -> None:
        super().__init__(message)
        self.english = english


class Refused(Exception):
    """The service answered with a refusal or a fault; ``problem`` says which."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem

    @property
    def code(self) -> str:
        return self.problem.code

    def english(self) -> str:
        return self.problem.english or self.problem.message
