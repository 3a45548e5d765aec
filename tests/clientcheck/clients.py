"""Two small clients of the travel contract's location search, for the client checks.

Both answer "the name of the first airport matching LON". ``naive_first_airport`` is
written the way quick client code often is: it assumes a 200 with at least one item.
``TravelClient`` reads the contract: the only error it raises is ``ApiError``, it renews
its token after a 401, waits and retries once after a 429 or 503, and treats an empty
result as "none".
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import requests

CLIENT_ID = "demo-client"
CLIENT_SECRET = "demo-secret"
TOKEN_PATH = "/v1/security/oauth2/token"
LOCATIONS_PATH = "/v1/reference-data/locations"
QUERY = {"subType": "AIRPORT", "keyword": "LON"}
MAX_RETRY_WAIT = 0.1  # seconds: a test must not sleep as long as a server asks


def naive_first_airport(base_url: str) -> str:
    """The deliberately naive client: no status check, no empty-list check."""
    token = requests.post(
        base_url + TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    ).json()["access_token"]
    response = requests.get(
        base_url + LOCATIONS_PATH,
        params=QUERY,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return str(response.json()["data"][0]["name"])


class ApiError(Exception):
    """The travel API refused or failed: ``status`` and the API's ``errors`` list."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.errors = errors or []


class TravelClient:
    """A careful client: every way the contract says a call can end is handled."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self._token: str | None = None

    def first_airport(self) -> str | None:
        """The name of the first airport matching LON, None when there is none."""
        body = self._get(LOCATIONS_PATH, QUERY)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ApiError(200, "the answer has no data list")
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                return str(item["name"])
        return None

    def _get(self, path: str, params: dict[str, str]) -> Any:
        renewed = waited = False
        while True:
            response = self.session.get(
                self.base_url + path,
                params=params,
                headers={"Authorization": f"Bearer {self._access_token()}"},
                timeout=10,
            )
            if response.status_code == 401 and not renewed:
                self._token, renewed = None, True
                continue
            if response.status_code in (429, 503) and not waited:
                time.sleep(retry_after(response.headers.get("Retry-After")))
                waited = True
                continue
            if not 200 <= response.status_code < 300:
                raise ApiError(response.status_code, *_errors(response))
            try:
                return response.json()
            except ValueError:
                raise ApiError(response.status_code, "the answer is not JSON") from None

    def _access_token(self) -> str:
        if self._token is None:
            response = self.session.post(
                self.base_url + TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                },
                timeout=10,
            )
            if response.status_code != 200:
                raise ApiError(response.status_code, "no access token")
            self._token = str(response.json()["access_token"])
        return self._token


def careful_first_airport(base_url: str) -> str | None:
    """``TravelClient(base_url).first_airport()``: what ``check_client`` calls."""
    return TravelClient(base_url).first_airport()


def retry_after(value: str | None) -> float:
    """Seconds to wait for a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return 0.0
        seconds = when - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_WAIT)


def _errors(response: requests.Response) -> tuple[str, list[Any]]:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "error", []
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("title") or errors[0].get("detail") or "error"), errors
    return response.reason or "error", []
