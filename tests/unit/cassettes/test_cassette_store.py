"""Writing cassettes: group commit across threads, two writers on one folder, atomic files."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockserver.cassettes.format import Interaction, load_cassette
from mockserver.cassettes.store import LOCK_NAME, CassetteStore
from mockserver.http import Headers


def _interaction(tag: str) -> Interaction:
    return Interaction(
        "GET",
        f"https://api.example.com/items?tag={tag}",
        Headers({"Accept": "*/*"}),
        None,
        200,
        "OK",
        Headers({"Content-Type": "application/json"}),
        f'{{"tag": "{tag}"}}'.encode(),
    )


def test_eight_threads_times_fifty_appends_are_all_on_disk(tmp_path: Path) -> None:
    store = CassetteStore(tmp_path)
    path = store.path_for("items")

    def worker(t: int) -> None:
        for n in range(50):
            store.append(path, _interaction(f"{t}-{n}"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    tags = sorted(i.uri.split("=")[1] for i in load_cassette(path).interactions)
    assert tags == sorted(f"{t}-{n}" for t in range(8) for n in range(50))


def test_two_stores_on_one_folder_interleave_without_losing(tmp_path: Path) -> None:
    # two recorders (separate lock handles: flock excludes them like two processes)
    first, second = CassetteStore(tmp_path), CassetteStore(tmp_path)
    path = first.path_for("shared")
    barrier = threading.Barrier(2)

    def worker(store: CassetteStore, name: str) -> None:
        barrier.wait()
        for n in range(40):
            store.append(path, _interaction(f"{name}{n}"))

    threads = [
        threading.Thread(target=worker, args=(first, "a")),
        threading.Thread(target=worker, args=(second, "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_cassette(path).interactions) == 80


def test_append_returns_only_once_on_disk_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = CassetteStore(tmp_path)
    path = store.path_for("tests/test_login")  # a test name keeps its folder
    store.append(path, _interaction("x"))
    assert path == tmp_path / "tests" / "test_login.yaml"
    assert len(load_cassette(path).interactions) == 1
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".tmp"]
    assert leftovers == []
    assert (tmp_path / LOCK_NAME).exists()


def test_a_failed_write_keeps_the_old_file_and_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CassetteStore(tmp_path)
    path = store.path_for("items")
    store.append(path, _interaction("kept"))
    before = path.read_text()

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        store.append(path, _interaction("lost?"))
    assert path.read_text() == before  # never half-written
    monkeypatch.undo()
    store.append(path, _interaction("next"))
    tags = [i.uri.split("=")[1] for i in load_cassette(path).interactions]
    assert tags == ["kept", "lost?", "next"]  # the failed one was retried, not dropped


def test_truncate_starts_a_cassette_afresh(tmp_path: Path) -> None:
    store = CassetteStore(tmp_path)
    path = store.path_for("items")
    store.append(path, _interaction("old"))
    store.truncate(path)
    assert load_cassette(path).interactions == []
    store.append(path, _interaction("new"))
    assert [i.uri.split("=")[1] for i in load_cassette(path).interactions] == ["new"]


def test_json_cassettes_are_appended_by_parsing(tmp_path: Path) -> None:
    store = CassetteStore(tmp_path)
    path = tmp_path / "items.json"
    store.append(path, _interaction("a"))
    store.append(path, _interaction("b"))
    assert path.read_text().lstrip().startswith("{")
    assert len(load_cassette(path).interactions) == 2
