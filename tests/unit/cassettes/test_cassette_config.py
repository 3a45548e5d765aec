"""The ``cassettes:`` config section: defaults, and typos refused with a suggestion."""

from __future__ import annotations

import pytest

from mockserver.config import Config, merge
from mockserver.errors import ConfigError


def test_defaults_ignore_the_host_and_replay_leniently() -> None:
    cfg = Config().cassettes
    assert cfg.match_on == ["method", "path", "query"]
    assert (cfg.strict, cfg.repeat, cfg.filters) == (False, "last", {})


def test_every_key_is_read() -> None:
    cfg = merge(
        Config(),
        {
            "cassettes": {
                "match_on": ["method", "path", "body"],
                "strict": True,
                "repeat": "cycle",
                "filters": {"headers": ["X-Session"], "defaults": False},
            }
        },
    ).cassettes
    assert cfg.match_on == ["method", "path", "body"]
    assert cfg.strict and cfg.repeat == "cycle"
    assert cfg.filters == {"headers": ["X-Session"], "defaults": False}


@pytest.mark.parametrize(
    ("section", "where", "words"),
    [
        ({"stict": True}, "/cassettes/stict", "did you mean 'strict'"),
        ({"match_on": ["metod"]}, "/cassettes/match_on", "did you mean 'method'"),
        ({"repeat": "forever"}, "/cassettes/repeat", "last, cycle, error"),
        ({"strict": "yes"}, "/cassettes/strict", "expected bool"),
        ({"filters": {"header": ["x"]}}, "/cassettes/filters/header", "did you mean 'headers'"),
        ({"filters": {"params": "api_key"}}, "/cassettes/filters/params", "expected list"),
    ],
)
def test_mistakes_are_refused_naming_the_key(
    section: dict[str, object], where: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        merge(Config(), {"cassettes": section}, "mockserver.yaml")
    assert info.value.location == where
    assert words in info.value.problem
