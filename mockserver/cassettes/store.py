"""Writing cassettes so that nothing is ever lost or half-written.

- **Atomic**: a cassette is written to a temporary file in the same folder, flushed,
  ``fsync``-ed and renamed over the old one (``os.replace``), so a reader, or a recorder
  killed with ``kill -9`` at any moment, sees the old file or the new one, never a mix.
- **Many threads**: appends queue in memory and one thread writes the whole queue at
  once (group commit); ``append`` returns once its interaction is on disk.
- **Many processes**: each write holds an exclusive ``flock`` on the folder's lock file
  and appends to the file as it is on disk then, so two recorders on one folder
  interleave whole interactions and lose none.
- **Linear**: each interaction is turned into YAML once, by vcrpy's serializer, and
  appended to the text on disk; earlier interactions are not serialised again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mockserver.cassettes.format import (
    Cassette,
    Interaction,
    append_yaml,
    dump_cassette,
    interaction_yaml,
    load_cassette,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: threads are still serialised
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".mockserver-record.lock"
_TMP_PREFIX = "."
_TMP_SUFFIX = ".tmp"
_STALE_TMP_SECONDS = 300.0


@dataclass(slots=True)
class _Queue:
    pending: list[Interaction] = field(default_factory=list)
    appended: int = 0
    written: int = 0


class CassetteStore:
    """Appends interactions to the cassettes of one folder, safely (see the module doc)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._queues: dict[Path, _Queue] = {}
        self._writers: dict[Path, threading.Lock] = {}
        # mkstemp creates 0600 files; a cassette gets the usual umask-based mode.
        mask = os.umask(0)
        os.umask(mask)
        self._mode = 0o666 & ~mask

    def path_for(self, name: str) -> Path:
        """The file of cassette ``name`` (``a/b`` becomes ``DIR/a/b.yaml``)."""
        return self.directory / f"{name}.yaml"

    def append(self, path: Path, interaction: Interaction) -> None:
        """Add ``interaction`` to the cassette at ``path``; returns once it is on disk."""
        with self._lock:
            queue = self._queues.setdefault(path, _Queue())
            writer = self._writers.setdefault(path, threading.Lock())
            queue.pending.append(interaction)
            queue.appended += 1
            mine = queue.appended
        with writer:
            if queue.written >= mine:
                return  # another thread wrote it with its own batch
            with self._lock:
                batch, queue.pending = queue.pending, []
                upto = queue.appended
            try:
                self._write(path, queue, batch)
            except BaseException:
                with self._lock:
                    queue.pending[:0] = batch
                raise
            queue.written = upto

    def truncate(self, path: Path) -> None:
        """Empty the cassette at ``path`` (record mode ``all`` starts each one afresh)."""
        with self._lock:
            writer = self._writers.setdefault(path, threading.Lock())
        with writer, self._folder_lock():
            self._replace(path, dump_cassette(Cassette(path, []), path))

    def _write(self, path: Path, queue: _Queue, batch: list[Interaction]) -> None:
        yaml_file = path.suffix.lower() in (".yaml", ".yml")
        items = "".join(interaction_yaml(i) for i in batch) if yaml_file else ""
        with self._folder_lock():
            # Read under the lock: another recorder may have replaced the file since.
            try:
                old: str | None = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                old = None
            text = append_yaml(old, items) if yaml_file else None
            if text is None:
                current = load_cassette(path) if old else Cassette(path, [])
                merged = Cassette(path, [*current.interactions, *batch], current.metadata)
                text = dump_cassette(merged, path)
            self._replace(path, text)

    def _replace(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f"{_TMP_PREFIX}{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent
        )
        try:
            os.fchmod(fd, self._mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # No fsync of the folder: after a power cut the rename may be lost (the previous,
        # complete file remains), never half a file; it would double the cost of a write.

    @contextlib.contextmanager
    def _folder_lock(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        with open(self.directory / LOCK_NAME, "a+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def remove_stale_temporaries(self) -> int:
        """Delete temporary files a killed recorder left (older than five minutes)."""
        removed = 0
        cutoff = time.time() - _STALE_TMP_SECONDS
        for tmp in self.directory.rglob(f"{_TMP_PREFIX}*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
        return removed
