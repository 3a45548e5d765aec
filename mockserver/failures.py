"""Structured verdicts: what broke which rule where. The journal, the reports and
problem+json answers all render these same objects, never parsed strings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a failure is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Failure:
    """One rule broken by a request, an answer or a contract.

    ``kind`` says whose fault it is: ``request`` (the client), ``response`` (the server or
    the mock), ``contract`` (the contract itself, e.g. an example that breaks its schema).
    ``location`` is where the value came from (``query``, ``path``, ``header``, ``cookie``,
    ``body``, ``status``, ``content-type``, ``auth``, ``route``); ``name`` the parameter;
    ``pointer`` a JSON pointer into the body; ``rule`` the keyword or check that failed.
    """

    kind: str
    rule: str
    message: str
    location: str = ""
    name: str = ""
    pointer: str = ""
    operation: str = ""
    severity: Severity = Severity.ERROR

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        """Identity for de-duplication in reports."""
        return (self.operation, self.kind, self.rule, self.location, self.name, self.pointer)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (empty fields dropped)."""
        data = asdict(self)
        data["severity"] = self.severity.value
        return {k: v for k, v in data.items() if v not in ("", None)}

    def to_problem_error(self) -> dict[str, Any]:
        """The entry of a problem+json ``errors`` list for this failure."""
        out: dict[str, Any] = {"in": self.location, "rule": self.rule, "message": self.message}
        if self.name:
            out["name"] = self.name
        if self.pointer:
            out["pointer"] = self.pointer
        return out
