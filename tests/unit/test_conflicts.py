"""The one conflict-retry helper: attempts, jittered back-off, one typed error at the end, and
how the HTTP layer answers that error."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from functions.http_support import answer_for, http_handler, written_response
from shared.adapters.conflicts import (
    BACKOFF_CAP_SECONDS,
    DEFAULT_ATTEMPTS,
    backoff_seconds,
    retry_on_conflict,
)
from shared.adapters.tables import ConcurrencyConflict
from shared.errors import Contended, NotFound
from shared.services.outcomes import Effect, Written


class Flaky:
    """Conflicts `losses` times, then returns "done"."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.losses:
            raise ConcurrencyConflict("lost the race")
        return "done"


def test_a_write_that_loses_some_races_succeeds_after_waiting_between_attempts() -> None:
    waits: list[float] = []
    attempt = Flaky(losses=3)
    assert retry_on_conflict(attempt, what="customer x", sleep=waits.append) == "done"
    assert attempt.calls == 4 and len(waits) == 3
    assert all(0 <= w <= BACKOFF_CAP_SECONDS for w in waits)


def test_a_conflict_that_outlasts_the_attempts_is_one_typed_error_naming_what() -> None:
    waits: list[float] = []
    attempt = Flaky(losses=100)
    with pytest.raises(Contended, match="customer x kept changing") as caught:
        retry_on_conflict(attempt, what="customer x", sleep=waits.append)
    assert attempt.calls == DEFAULT_ATTEMPTS and len(waits) == DEFAULT_ATTEMPTS - 1
    assert caught.value.retry_after_seconds >= 1


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise NotFound("no such customer")

    with pytest.raises(NotFound):
        retry_on_conflict(refuse, what="x", sleep=lambda _: None)
    assert calls == [1]


def test_the_back_off_ceiling_doubles_then_caps_and_the_wait_is_jittered() -> None:
    assert backoff_seconds(1, rng=lambda: 1.0) < backoff_seconds(2, rng=lambda: 1.0)
    assert backoff_seconds(30, rng=lambda: 1.0) == BACKOFF_CAP_SECONDS
    assert backoff_seconds(3, rng=lambda: 0.0) == 0.0
    assert backoff_seconds(3, rng=lambda: 0.5) == backoff_seconds(3, rng=lambda: 1.0) / 2


def _request() -> func.HttpRequest:
    return func.HttpRequest(method="POST", url="http://localhost/api/x", body=b"{}", headers={})


def test_the_http_layer_answers_contended_with_409_and_retry_after() -> None:
    @http_handler
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return retry_on_conflict(Flaky(losses=100), what="customer x", attempts=2, sleep=lambda _: None)

    response = handler(_request())
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    body = json.loads(response.get_body())
    assert body["type"].endswith("/contended") and "customer x kept changing" in body["detail"]


def test_an_unretried_write_conflict_is_a_409_too_not_a_500() -> None:
    @http_handler
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        raise ConcurrencyConflict("etag")

    response = handler(_request())
    assert response.status_code == 409 and "Retry-After" in response.headers


@pytest.mark.parametrize(
    ("effect", "status"),
    [(Effect.CREATED, 201), (Effect.UPDATED, 200), (Effect.UNCHANGED, 200), (Effect.REMOVED, 204)],
)
def test_only_the_http_layer_turns_an_effect_into_a_status(effect: Effect, status: int) -> None:
    response = written_response(Written({"id": "i1"} if effect is not Effect.REMOVED else None, effect))
    assert response.status_code == status
    assert (response.get_body() == b"") is (status == 204)


def test_a_refusal_subclass_answers_as_its_nearest_listed_base() -> None:
    class NoSuchInvoice(NotFound):
        pass

    assert answer_for(NoSuchInvoice("x"))[0] == 404


def test_attempts_on_one_key_run_one_at_a_time_and_other_keys_do_not_wait() -> None:
    import threading

    from shared.adapters.conflicts import serialised

    inside: list[str] = []
    overlap: list[bool] = []
    gate = threading.Event()

    def writer(key: str) -> None:
        with serialised(key):
            inside.append(key)
            overlap.append(inside.count(key) > 1)
            gate.wait(0.05)  # hold the key a little, so a second writer would overlap
            inside.remove(key)

    threads = [threading.Thread(target=writer, args=("c1",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    with serialised("c2"):  # another key is not blocked by c1's writers
        pass
    for thread in threads:
        thread.join()
    assert overlap == [False] * 8
    from shared.adapters import conflicts

    assert conflicts._key_locks == {}  # nothing left behind
