"""Per-operation coverage: what of each declared operation a run exercised, and a score.

The score (documented in the README, "Conformance reports") is, per operation::

    score(op) = 0                                       if op was never called
              = (status_share + parameter_share) / 2    otherwise

    status_share    = declared responses seen / declared responses
                      (a status counts for its exact code, else its range such as 4XX,
                      else ``default``; undeclared statuses count for nothing)
    parameter_share = declared parameters sent / declared parameters (1 when none)

and over a contract or a run, the mean over *every declared operation* (uncalled ones
count 0), which equals ``share of operations called x mean score of the called ones``.
Parameters are the path, query, header and cookie parameters; bodies are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.conformance.journal import OperationStats
from mockserver.contract.model import Operation


@dataclass(slots=True)
class OperationCoverage:
    """How much of one declared operation was exercised, with its violations."""

    operation: str  # "GET /v1/reference-data/locations"
    contract: str = ""
    operation_id: str | None = None
    summary: str = ""
    calls: int = 0
    statuses_declared: list[str] = field(default_factory=list)  # "200", "4XX", "default"
    # every status answered, declared or not: "404" -> 3
    statuses_seen: dict[str, int] = field(default_factory=dict)
    statuses_covered: list[str] = field(default_factory=list)  # declared keys matched
    parameters_declared: list[str] = field(default_factory=list)  # "query:keyword"
    parameters_used: list[str] = field(default_factory=list)  # declared ones that were sent
    request_violations: int = 0
    response_violations: int = 0
    score: float = 0.0

    @property
    def status_share(self) -> float:
        """Declared responses seen / declared responses (1 when none are declared)."""
        if not self.statuses_declared:
            return 1.0
        return len(self.statuses_covered) / len(self.statuses_declared)

    @property
    def parameter_share(self) -> float:
        """Declared parameters sent / declared parameters (1 when none are declared)."""
        if not self.parameters_declared:
            return 1.0
        return len(self.parameters_used) / len(self.parameters_declared)

    @property
    def statuses_undeclared(self) -> list[str]:
        """Statuses answered that the contract does not declare for this operation."""
        return [s for s in self.statuses_seen if declared_key(self.statuses_declared, s) is None]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (one entry of a report's ``operations``)."""
        return {
            "operation": self.operation,
            "contract": self.contract,
            "operation_id": self.operation_id,
            "summary": self.summary,
            "calls": self.calls,
            "statuses_declared": self.statuses_declared,
            "statuses_seen": self.statuses_seen,
            "statuses_covered": self.statuses_covered,
            "statuses_undeclared": self.statuses_undeclared,
            "parameters_declared": self.parameters_declared,
            "parameters_used": self.parameters_used,
            "request_violations": self.request_violations,
            "response_violations": self.response_violations,
            "status_share": round(self.status_share, 4),
            "parameter_share": round(self.parameter_share, 4),
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationCoverage:
        """Read back what ``to_dict`` wrote (derived keys are recomputed, not read)."""
        return cls(
            operation=str(data["operation"]),
            contract=str(data.get("contract") or ""),
            operation_id=data.get("operation_id"),
            summary=str(data.get("summary") or ""),
            calls=int(data.get("calls") or 0),
            statuses_declared=list(data.get("statuses_declared") or []),
            statuses_seen={str(k): int(v) for k, v in (data.get("statuses_seen") or {}).items()},
            statuses_covered=list(data.get("statuses_covered") or []),
            parameters_declared=list(data.get("parameters_declared") or []),
            parameters_used=list(data.get("parameters_used") or []),
            request_violations=int(data.get("request_violations") or 0),
            response_violations=int(data.get("response_violations") or 0),
            score=float(data.get("score") or 0.0),
        )


def declared_key(declared: Iterable[str], status: str | int) -> str | None:
    """The declared response key a status falls under: exact, range (``4XX``), ``default``."""
    keys = list(declared)
    code = str(status)
    if code in keys:
        return code
    for key in keys:
        if len(key) == 3 and key[0] == code[:1] and key[1:].upper() == "XX":
            return key
    return "default" if "default" in keys else None


def declared_parameters(op: Operation) -> list[str]:
    """``location:name`` of every parameter the operation declares, in contract order."""
    return [f"{p.location}:{p.name}" for p in op.parameters]


def operation_coverage(op: Operation, stats: OperationStats | None) -> OperationCoverage:
    """Coverage of ``op`` from its counters (``None``: never called)."""
    stats = stats or OperationStats()
    declared_statuses = list(op.responses)
    seen = {str(code): count for code, count in sorted(stats.statuses.items())}
    covered = {k for s in seen if (k := declared_key(declared_statuses, s)) is not None}
    params = declared_parameters(op)
    cov = OperationCoverage(
        operation=op.key,
        contract=op.contract.name,
        operation_id=op.operation_id,
        summary=op.summary,
        calls=stats.calls,
        statuses_declared=declared_statuses,
        statuses_seen=seen,
        statuses_covered=[s for s in declared_statuses if s in covered],
        parameters_declared=params,
        parameters_used=[p for p in params if p in stats.parameters],
        request_violations=stats.request_violations,
        response_violations=stats.response_violations,
    )
    cov.score = operation_score(cov)
    return cov


def operation_score(cov: OperationCoverage) -> float:
    """0 when never called, else the mean of the status and parameter shares (0..1)."""
    if cov.calls == 0:
        return 0.0
    return round((cov.status_share + cov.parameter_share) / 2, 4)


def overall_score(operations: Iterable[OperationCoverage]) -> float:
    """Mean score over every declared operation (uncalled ones count 0); 0..1."""
    scores = [op.score for op in operations]
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def coverage_of(
    operations: Iterable[Operation], stats: Mapping[str, OperationStats]
) -> list[OperationCoverage]:
    """Coverage of each declared operation from a journal's (or a run's) counters."""
    return [operation_coverage(op, stats.get(op.key)) for op in operations]
