"""Exception classes: every error a user can cause has one, with a message they can act on.

::

    MockserverError
     ├── ContractError      a contract file cannot be loaded or is not a valid contract
     ├── CassetteError      a cassette file cannot be loaded
     ├── ConfigError        mockserver.yaml or x-mockserver is wrong
     └── ServerError        the mock server could not start
"""

from __future__ import annotations


class MockserverError(Exception):
    """Base class of every error mockserver raises on purpose."""


class LocatedError(MockserverError):
    """An error about a place in a file: ``file``, ``location`` (a JSON pointer or line) and why."""

    def __init__(self, file: str, location: str, problem: str) -> None:
        self.file = file
        self.location = location
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The single line printed by the CLI: ``file: location: problem``."""
        where = f"{self.file}: {self.location}" if self.location else self.file
        # parser messages (PyYAML's) span lines; the CLI promises one
        return " ".join(f"{where}: {self.problem}".split())


class ContractError(LocatedError):
    """A contract cannot be used: bad YAML/JSON, dangling ``$ref``, unknown version, ..."""


class CassetteError(LocatedError):
    """A cassette cannot be used: truncated, wrong version or dialect, ..."""


class ConfigError(LocatedError):
    """The configuration (``mockserver.yaml`` or ``x-mockserver``) is invalid."""


class ServerError(MockserverError):
    """The mock server could not be started or stopped."""
