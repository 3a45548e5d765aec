"""``check_client``: drive a client through contract-valid answers, report what breaks it.

One run:

1. **Baseline**: the client runs once against the mock's ordinary answers. It must call
   the operation under test (else there is nothing to check: ``ClientCheckError``); the
   URL it called becomes the target of every link in generated answers.
2. **Search**: hypothesis draws answers from ``AnswerSpace`` (see ``answers.py``); each is
   forced on the operation through a one-shot scenario (``times=1``), so a client that
   retries (after a 401 and a new token, after a 429) gets the ordinary answer next. The
   client runs; any exception that is not one of its documented ``expected`` errors is a
   failure.
3. **Shrink**: hypothesis reduces each distinct failure (exception type and place) to the
   smallest answer that still causes it; the result carries those answers and the seed
   that replays the run (``seed=``).
4. **Again**: hypothesis stops searching at its first failure, so the search runs again
   (a new budget, the next seed) with the failures found so far counted as known, until
   a round finds nothing new or ``MAX_ROUNDS`` have run.

The server's own state is left alone between answers (tokens, data, counters): a client
that keeps a session keeps it. Only the scenarios this run adds are removed.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.control import current_build_context
from hypothesis.errors import FlakyFailure, InvalidArgument, Unsatisfiable

from mockserver.clientcheck.answers import (
    EXPIRED,
    ORDINARY,
    Answer,
    AnswerSpace,
    takes_issued_tokens,
)
from mockserver.config import Config
from mockserver.contract.model import Operation
from mockserver.errors import MockserverError
from mockserver.server import MockServer

Client = Callable[[str], object]
"""Given the mock's base URL (``http://127.0.0.1:PORT``), makes the client's call."""

Expected = type[BaseException] | tuple[type[BaseException], ...]

DEFAULT_MAX_EXAMPLES = 50
MAX_ROUNDS = 4


class ClientCheckError(MockserverError):
    """The check cannot run: unknown operation, a client that never calls it, ..."""


class ClientCheckFailed(AssertionError):
    """The client raised undocumented errors; the message shows each minimal answer."""

    def __init__(self, result: ClientCheckResult) -> None:
        self.result = result
        super().__init__(result.summary())


@dataclass(frozen=True, slots=True)
class ClientFailure:
    """An answer that made the client raise something it does not document."""

    answer: Answer
    error: BaseException
    flaky: bool = False

    @property
    def title(self) -> str:
        """``KeyError: 'data'``."""
        text = str(self.error)
        return f"{type(self.error).__name__}: {text}" if text else type(self.error).__name__

    @property
    def where(self) -> str:
        """``file:line in function`` of the innermost frame of the error."""
        frames = traceback.extract_tb(self.error.__traceback__)
        if not frames:
            return ""
        frame = frames[-1]
        return f"{frame.filename}:{frame.lineno} in {frame.name}"

    @property
    def formatted_traceback(self) -> str:
        """The error's traceback (without hypothesis' notes)."""
        notes = getattr(self.error, "__notes__", None)
        try:
            if notes is not None:
                del self.error.__notes__
            return "".join(traceback.format_exception(self.error))
        finally:
            if notes is not None:
                self.error.__notes__ = notes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "error": self.title,
            "where": self.where,
            "flaky": self.flaky,
            "answer": self.answer.to_dict(),
        }


@dataclass(slots=True)
class ClientCheckResult:
    """What a ``check_client`` run found.

    ``examples``: answers tried (shrinking included); ``exercised``: how many of them the
    client actually received (it may stop before calling the operation, e.g. when its token
    request failed); ``kinds``: answers tried per kind and status (``"error 429"``).
    """

    operation: str
    seed: int
    failures: list[ClientFailure] = field(default_factory=list)
    examples: int = 0
    exercised: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """True when no answer broke the client."""
        return not self.failures

    def summary(self) -> str:
        """A human-readable account: each failure with its minimal answer, and the seed."""
        if self.ok:
            return (
                f"{self.operation}: the client handled {self.exercised} contract-valid answers "
                f"(seed {self.seed})"
            )
        lines = [
            f"{self.operation}: the client raised {len(self.failures)} undocumented "
            f"error{'s' if len(self.failures) > 1 else ''} on contract-valid answers "
            f"(replay with seed={self.seed})",
        ]
        for number, failure in enumerate(self.failures, 1):
            lines.append("")
            lines.append(f"{number}. {failure.title}" + (" (flaky)" if failure.flaky else ""))
            if failure.where:
                lines.append(f"   at {failure.where}")
            lines.append(f"   minimal answer ({failure.answer.kind}):")
            lines.extend(f"     {line}" for line in failure.answer.describe().splitlines())
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise ``ClientCheckFailed`` (an ``AssertionError``) when the client broke."""
        if not self.ok:
            raise ClientCheckFailed(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "operation": self.operation,
            "seed": self.seed,
            "ok": self.ok,
            "examples": self.examples,
            "exercised": self.exercised,
            "kinds": dict(self.kinds),
            "failures": [f.to_dict() for f in self.failures],
        }


def check_client(
    target: MockServer | str | Path | Sequence[str | Path],
    operation: str,
    client: Client,
    expected: Expected = (),
    *,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    config: Config | dict[str, Any] | str | Path | None = None,
) -> ClientCheckResult:
    """Check that ``client`` survives every answer the contract allows for ``operation``.

    ``target`` is a running ``MockServer`` (its state is kept) or contract path(s), for
    which a server is started with ``config`` and stopped afterwards. ``operation`` is
    ``"GET /v1/reference-data/locations"`` or an operationId. ``client`` gets the mock's
    base URL and makes its call; exceptions of the ``expected`` types are the client's
    documented way to fail and are fine. ``seed`` replays an earlier run.

    >>> result = check_client("contracts/travel/openapi.yaml",
    ...                       "GET /v1/reference-data/locations", my_client, (ApiError,))
    >>> result.raise_for_failures()
    """
    expected_types = expected if isinstance(expected, tuple) else (expected,)
    run_seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    if isinstance(target, MockServer):
        return _Run(target, operation, client, expected_types, max_examples, run_seed).run()
    with MockServer(target, config=config) as server:
        return _Run(server, operation, client, expected_types, max_examples, run_seed).run()


def assert_client_handles(
    target: MockServer | str | Path | Sequence[str | Path],
    operation: str,
    client: Client,
    expected: Expected = (),
    **kwargs: Any,
) -> ClientCheckResult:
    """``check_client`` for tests: raises ``ClientCheckFailed`` (an ``AssertionError``)
    showing each minimal breaking answer and the seed, else returns the result."""
    result = check_client(target, operation, client, expected, **kwargs)
    result.raise_for_failures()
    return result


def find_operation(server: MockServer, name: str) -> Operation:
    """The operation called ``"GET /path"`` (method case-insensitive) or by operationId."""
    method, _, path = name.strip().partition(" ")
    key = f"{method.upper()} {path.strip()}"
    for op in server.pipeline.operations:
        if op.key == key or op.operation_id == name:
            return op
    known = ", ".join(sorted(op.key for op in server.pipeline.operations)[:20])
    raise ClientCheckError(f"no operation {name!r} in the contract; known: {known}")


class _Run:
    """One ``check_client`` run against a started server."""

    def __init__(
        self,
        server: MockServer,
        operation: str,
        client: Client,
        expected: tuple[type[BaseException], ...],
        max_examples: int,
        seed: int,
    ) -> None:
        self.server = server
        self.op = find_operation(server, operation)
        self.client = client
        self.expected = expected
        self.max_examples = max_examples
        self.result = ClientCheckResult(self.op.key, seed)
        # Failures seen in hypothesis' final replay of each minimal example, by exception id.
        self._final: dict[int, tuple[BaseException, Answer]] = {}
        self._last: dict[int, tuple[BaseException, Answer]] = {}
        # (type, file, line) of the failures already reported: later rounds look past them.
        self._known: set[tuple[type[BaseException], str, int]] = set()

    def run(self) -> ClientCheckResult:
        link = self._baseline()
        if self.result.failures:
            return self.result
        space = AnswerSpace(
            self.op,
            self.server.pipeline.validators,
            link=link,
            tokens=takes_issued_tokens(self.op),
        )
        for round_ in range(MAX_ROUNDS):
            found = len(self.result.failures)
            self._search(space, self.result.seed + round_)
            if len(self.result.failures) == found:
                break
        return self.result

    def _last_id(self) -> int:
        entries = self.server.journal.entries()
        return entries[-1].id if entries else 0

    def _calls(self, since: int) -> list[Any]:
        return [e for e in self.server.journal.entries(since) if e.operation == self.op.key]

    def _baseline(self) -> str | None:
        """Run the client on the ordinary answers; the URL it called for the operation."""
        since = self._last_id()
        error: Exception | None = None
        try:
            self.client(self.server.url)
        except self.expected:
            pass
        except Exception as exc:  # noqa: BLE001 - any undocumented error is the finding
            error = exc
        calls = self._calls(since)
        if error is not None:
            status = calls[0].status if calls else 0
            self.result.failures.append(ClientFailure(Answer(ORDINARY, status), error))
            return None
        if not calls:
            called = sorted({e.operation or f"{e.method} {e.path}" for e in self._since(since)})
            raise ClientCheckError(
                f"the client never called {self.op.key} against {self.server.url}; "
                f"it called: {', '.join(called) or 'nothing'}"
            )
        first = calls[0]
        path = quote(first.path, safe="/:@!$&'()*+,;=-._~")
        return f"{self.server.url}{path}" + (f"?{first.query}" if first.query else "")

    def _since(self, since: int) -> list[Any]:
        return list(self.server.journal.entries(since))

    def _attempt(self, answer: Answer) -> None:
        self.result.examples += 1
        self.result.kinds[f"{answer.kind} {answer.status}"] += 1
        since = self._last_id()
        scenario_id = None
        if answer.kind == EXPIRED:
            self.server.expire_tokens()
        else:
            scenario = self.server.scenario(
                self.op.key,
                status=answer.status,
                times=1,
                body=answer.body if answer.has_body else None,
                headers=dict(answer.headers) or None,
            )
            scenario_id = scenario.id
        try:
            self.client(self.server.url)
        except self.expected:
            pass
        except Exception as exc:
            if _signature(exc) in self._known:
                return  # found in an earlier round
            self._remember(exc, answer)
            raise
        finally:
            if scenario_id is not None:
                self.server.pipeline.faults.remove(scenario_id)
            if self._calls(since):
                self.result.exercised += 1

    def _remember(self, exc: BaseException, answer: Answer) -> None:
        try:
            final = bool(getattr(current_build_context(), "is_final", False))
        except InvalidArgument:  # outside a hypothesis test: keep it among the recent ones
            final = False
        if final:
            self._final[id(exc)] = (exc, answer)
        else:
            self._last[id(exc)] = (exc, answer)
            if len(self._last) > 64:
                self._last.pop(next(iter(self._last)))

    def _search(self, space: AnswerSpace, seed: int) -> None:
        self._final.clear()
        self._last.clear()

        @hypothesis_seed(seed)
        @settings(
            max_examples=self.max_examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=True,
            print_blob=False,
        )
        @given(space.strategy())
        def client_survives(answer: Answer) -> None:
            self._attempt(answer)

        try:
            client_survives()
        except Unsatisfiable as exc:
            raise ClientCheckError(
                f"no contract-valid answer could be built for {self.op.key}: {exc}"
            ) from None
        except BaseExceptionGroup as group:
            flaky = isinstance(group, FlakyFailure)
            for error in _leaves(group):
                self._report(error, flaky)
        except Exception as exc:  # noqa: BLE001 - the client's own error, re-raised by hypothesis
            self._report(exc, False)

    def _report(self, error: BaseException, flaky: bool) -> None:
        seen = self._final.get(id(error)) or self._last.get(id(error))
        if seen is None:
            raise error  # not the client's: a bug in the check itself
        self.result.failures.append(ClientFailure(seen[1], seen[0], flaky))
        self._known.add(_signature(seen[0]))


def _signature(exc: BaseException) -> tuple[type[BaseException], str, int]:
    """What tells two failures apart: the exception type and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return (type(exc), "", 0)
    return (type(exc), frames[-1].filename, frames[-1].lineno or 0)


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out.extend(_leaves(exc))
        else:
            out.append(exc)
    return out
