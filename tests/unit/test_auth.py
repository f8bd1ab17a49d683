"""Who is calling: the App Service Authentication principal (a person, a machine), trusted only
when the platform says it is on; named keys; the refusals. Principals shaped as Microsoft
documents them (base64 JSON: auth_typ, name_typ, role_typ, claims[typ, val])."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import azure.functions as func
import pytest

from functions.auth import actor_from_principal, authenticate, current_actor, requires
from functions.http_support import http_handler
from shared import runtime
from shared.domain.identity import ActorKind
from shared.domain.roles import Role
from shared.errors import Forbidden, Unauthorized

OID = "b7e3c2f1-7a0e-4d5b-9c3f-1a2b3c4d5e6f"
CLIENT = "c0ffee00-1111-4222-8333-444455556666"


def principal(claims: list[tuple[str, str]], **top: str) -> str:
    body = {
        "auth_typ": "aad",
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        "claims": [{"typ": t, "val": v} for t, v in claims],
        **top,
    }
    return base64.b64encode(json.dumps(body).encode()).decode()


USER = principal(
    [
        ("http://schemas.microsoft.com/identity/claims/objectidentifier", OID.upper()),
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "Li Na"),
        ("preferred_username", "li.na@contoso.cn"),
        ("roles", "Collections.Read"),
        ("roles", "Collections.Write"),
        ("roles", "Not.A.Role"),
        ("scp", "user_impersonation"),
        ("azp", CLIENT),
    ]
)
APP = principal(
    [
        ("azp", CLIENT),
        (
            "http://schemas.microsoft.com/identity/claims/objectidentifier",
            "9999aaaa-0000-4000-8000-000000000000",
        ),
        ("roles", "Fraud.Report"),
        ("app_displayname", "billing-feed"),
    ]
)


def request(**headers: str) -> func.HttpRequest:
    return func.HttpRequest(method="GET", url="http://localhost/api/x", headers=headers, params={}, body=b"")


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.delenv("FUNCTION_KEYS_ENABLED", raising=False)
    monkeypatch.delenv("FUNCTION_KEYS", raising=False)
    runtime.reset()
    yield monkeypatch
    runtime.reset()


def test_a_person_has_object_id_name_upn_and_only_known_roles() -> None:
    actor = actor_from_principal(USER, {})
    assert actor.kind is ActorKind.USER and actor.id == OID  # stored lower-case
    assert actor.name == "Li Na" and actor.upn == "li.na@contoso.cn"
    assert actor.roles == {Role.COLLECTIONS_READ, Role.COLLECTIONS_WRITE}
    assert actor.label == "Li Na (li.na@contoso.cn)"


def test_a_machine_with_a_client_credential_token_is_an_app() -> None:
    actor = actor_from_principal(APP, {})
    assert actor.kind is ActorKind.APP and actor.id == CLIENT and actor.name == "billing-feed"
    assert actor.roles == {Role.FRAUD_REPORT}
    typed = actor_from_principal(principal([("azp", CLIENT), ("idtyp", "app")]), {})
    assert typed.kind is ActorKind.APP and typed.name == f"app {CLIENT}"


def test_a_principal_that_cannot_be_read_is_401_not_500() -> None:
    for bad in ("%%%", base64.b64encode(b"not json").decode(), base64.b64encode(b"[]").decode()):
        with pytest.raises(Unauthorized):
            actor_from_principal(bad, {})
    with pytest.raises(Unauthorized, match="object id"):
        actor_from_principal(principal([("name", "nobody")]), {})


def test_the_principal_is_trusted_only_when_the_platform_vouches(settings: pytest.MonkeyPatch) -> None:
    assert authenticate(request(**{"x-ms-client-principal": USER})).id == OID
    settings.setenv("WEBSITE_AUTH_ENABLED", "false")
    runtime.reset()
    with pytest.raises(Unauthorized):  # nothing in front strips the header: it proves nothing
        authenticate(request(**{"x-ms-client-principal": USER}))


def test_named_keys_only_when_switched_on(settings: pytest.MonkeyPatch) -> None:
    digest = hashlib.sha256(b"k-0123456789").hexdigest()
    settings.setenv(
        "FUNCTION_KEYS", json.dumps({"billing": {"sha256": digest, "roles": ["Collections.Write"]}})
    )
    runtime.reset()
    with pytest.raises(Unauthorized, match="switched off"):
        authenticate(request(**{"x-functions-key": "k-0123456789"}))
    settings.setenv("FUNCTION_KEYS_ENABLED", "true")
    runtime.reset()
    caller = authenticate(request(**{"x-functions-key": "k-0123456789"}))
    assert (caller.kind, caller.id, caller.roles) == (ActorKind.KEY, "billing", {Role.COLLECTIONS_WRITE})
    with pytest.raises(Unauthorized, match="not one of the named keys"):
        authenticate(request(**{"x-functions-key": "guess"}))


def test_a_route_answers_401_and_403_naming_the_role(settings: pytest.MonkeyPatch) -> None:
    @http_handler
    @requires(Role.COLLECTIONS_APPROVE)
    def route(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(current_actor().name, status_code=200)

    assert route(request()).status_code == 401
    refused = route(request(**{"x-ms-client-principal": USER}))
    assert refused.status_code == 403
    body = json.loads(refused.get_body())
    assert (
        body["required_role"] == "Collections.Approve" and "Collections.Approve" in body["localized"]["zh-CN"]
    )
    approver = principal(
        [
            ("http://schemas.microsoft.com/identity/claims/objectidentifier", OID),
            ("roles", "Collections.Approve"),
        ]
    )
    assert route(request(**{"x-ms-client-principal": approver})).status_code == 200
    with pytest.raises(RuntimeError):
        current_actor()  # only inside a route that authenticated its caller


def test_a_forbidden_refusal_is_a_403_problem() -> None:
    from functions.http_support import refusal

    answer = refusal(
        Forbidden("no", members={"required_role": "Admin"}, localized={"zh-CN": "不", "en": "No"})
    )
    assert answer.status_code == 403 and json.loads(answer.get_body())["localized"] == {
        "zh-CN": "不",
        "en": "No",
    }


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (
            "shared.services.fraud.cases:ResolutionRequest",
            {"outcome": "dismissed", "note": "n"},
            "resolved_by",
        ),
        ("shared.domain.service_request:EscalationRequest", {}, "prepared_by"),
        (
            "shared.domain.service_request:TicketUpdate",
            {"ticket_number": "T-1", "state": "filed"},
            "updated_by",
        ),
        (
            "shared.services.reconcile.ownership:OwnershipRequest",
            {"decision": "leave", "note": "n"},
            "decided_by",
        ),
    ],
)
def test_a_body_cannot_say_who_acted(model: str, body: dict[str, str], field: str) -> None:
    import importlib

    from pydantic import ValidationError

    module, name = model.split(":")
    cls = getattr(importlib.import_module(module), name)
    assert field not in cls.model_validate(body).model_dump()  # without it: accepted, nothing named
    with pytest.raises(ValidationError) as refused:
        cls.model_validate({**body, field: "someone else"})
    [error] = refused.value.errors()
    assert error["loc"] == (field,) and "who acted comes from the sign-in" in error["msg"]
