"""The recorder's decisions (no sockets): cassette names and vcrpy's record modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CONTRACTS
from mockserver.cassettes.format import Interaction, load_cassette
from mockserver.cassettes.record import Forward, Recorder, Refuse, safe_name
from mockserver.cassettes.replay import Played
from mockserver.contract.loader import load_contract
from mockserver.errors import CassetteError
from mockserver.http import Headers, MockRequest


def _request(path: str = "/api/notes/1") -> MockRequest:
    return MockRequest.from_url("GET", f"http://127.0.0.1:8001{path}")


def _exchange(path: str = "/api/notes/1", body: bytes = b'{"id": 1}') -> Interaction:
    return Interaction(
        "GET",
        f"https://notes.example.com{path}",
        Headers({"Accept": "*/*"}),
        None,
        200,
        "OK",
        Headers({"Content-Type": "application/json"}),
        body,
    )


def test_cassettes_are_named_per_operation_test_or_path(tmp_path: Path) -> None:
    with_contract = Recorder(tmp_path, contracts=[load_contract(CONTRACTS / "notes.json")])
    assert with_contract.name_for(_request()) == "getNote"
    assert with_contract.name_for(_request("/api/unknown/x")) == "get_api_unknown_x"
    assert with_contract.name_for(_request(), "tests/test_notes.py::test_get") == (
        "tests/test_notes.py_test_get"
    )
    with_contract.cassette_name = "tests/test_a"
    assert with_contract.name_for(_request()) == "tests/test_a"
    assert Recorder(tmp_path).name_for(_request()) == "get_api_notes_1"


@pytest.mark.parametrize(
    ("name", "folders", "expected"),
    [
        ("users/get-by-username", False, "users_get-by-username"),
        ("../../etc/passwd", True, "etc/passwd"),
        ("/abs//x y", True, "abs/x_y"),
        ("...", False, "cassette"),
    ],
)
def test_safe_names_never_leave_the_folder(name: str, folders: bool, expected: str) -> None:
    assert safe_name(name, keep_folders=folders) == expected


def test_once_records_new_cassettes_and_replays_old_ones(tmp_path: Path) -> None:
    first = Recorder(tmp_path)
    decision = first.decide(_request(), "notes")
    assert isinstance(decision, Forward)
    first.record(decision.path, _exchange())
    assert isinstance(first.decide(_request("/api/notes/2"), "notes"), Forward)  # still new

    second = Recorder(tmp_path)  # a later session: the cassette exists now
    assert isinstance(second.decide(_request(), "notes"), Played)
    refused = second.decide(_request("/api/notes/2"), "notes")
    assert isinstance(refused, Refuse) and refused.mode == "once"


def test_new_episodes_replays_what_it_has_and_records_the_rest(tmp_path: Path) -> None:
    Recorder(tmp_path).record(tmp_path / "notes.yaml", _exchange())
    recorder = Recorder(tmp_path, mode="new_episodes")
    assert isinstance(recorder.decide(_request(), "notes"), Played)
    assert isinstance(recorder.decide(_request("/api/notes/2"), "notes"), Forward)


def test_all_starts_each_cassette_afresh_and_none_never_forwards(tmp_path: Path) -> None:
    Recorder(tmp_path).record(tmp_path / "notes.yaml", _exchange())
    recorder = Recorder(tmp_path, mode="all")
    decision = recorder.decide(_request(), "notes")
    assert isinstance(decision, Forward)
    assert load_cassette(decision.path).interactions == []
    recorder.record(decision.path, _exchange(body=b'{"id": 2}'))

    none = Recorder(tmp_path, mode="none")
    played = none.decide(_request(), "notes")
    assert isinstance(played, Played) and played.response.body == b'{"id": 2}'
    assert isinstance(none.decide(_request(), "missing"), Refuse)


def test_recording_scrubs_before_writing(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    exchange = _exchange()
    exchange.request_headers.set("Authorization", "Bearer live-token-123456")
    written = recorder.record(tmp_path / "x.yaml", exchange)
    assert written.request_headers.get("Authorization") == "Bearer scrubbed-access_token-1"
    assert "live-token" not in (tmp_path / "x.yaml").read_text()


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="record mode"):
        Recorder(tmp_path, mode="sometimes")  # type: ignore[arg-type]
