"""Request/response plumbing shared by every Partner Center operation (subscriptions here; the
fraud-events module builds on it too): headers, timeouts, transient retries, pacing, errors.

Built on azure-core's PipelineClient (see docs/partner-center-client.md for why).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from azure.core import PipelineClient
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from shared.adapters.partner_center.auth import PartnerCenterConfig, build_credential
from shared.adapters.partner_center.error_table import ErrorKind, classify, normalise_code
from shared.adapters.partner_center.errors import (
    ERROR_TYPES,
    PartnerCenterError,
    Throttled,
    Transient,
    Unauthorised,
)
from shared.adapters.partner_center.pacing import Bucket, PacingPolicy, bucket_for, fleet_bucket_for
from shared.adapters.tables import Table
from shared.settings import PartnerCenterPacing

log = logging.getLogger(__name__)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_CORRELATION_NAMESPACE = uuid.UUID("6f3c8a52-6c1e-4f0e-9d7a-6e1b3c2d4a10")
# Longest a call waits for a client-side pacing slot before handing back Throttled.
MAX_PACING_WAIT_SECONDS = 30.0


def correlation_guid(correlation_id: str | None) -> str:
    """MS-CorrelationId must be a GUID: use ours as is, or derive a stable GUID from it."""
    if not correlation_id:
        return str(uuid.uuid4())
    if _GUID.match(correlation_id):
        return correlation_id.lower()
    return str(uuid.uuid5(_CORRELATION_NAMESPACE, correlation_id))


class TransientOnlyRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """Retries 5xx, 408, resets and timeouts only (never 429 or 409, which the caller
    reschedules). PATCH and POST are retried too: they carry the same MS-RequestId, which makes
    the repeat idempotent at Partner Center."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._method_whitelist = frozenset(["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "PATCH", "POST"])

    def get_retry_after(self, response: Any) -> float | None:
        """A 5xx may carry a Retry-After; wait at most the back-off cap inside the call (a long
        wait would pin the worker and outlive the executor's lease). A longer wish ends as
        Transient after the retries, and the executor reschedules."""
        wanted = super().get_retry_after(response)
        return None if wanted is None else min(wanted, float(self.backoff_max))

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        status = response.http_response.status_code
        retryable = status == 408 or (500 <= status < 600 and status not in (501, 505))
        return bool(settings["total"]) and retryable


@dataclass
class ApiCall:
    """One logical operation: its request id is reused by every retry of it."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str | None = None
    # Numbers with a fraction are parsed as `Decimal` from their JSON text (money: billing reads).
    exact_numbers: bool = False


@dataclass(frozen=True)
class ApiResult:
    status: int
    headers: dict[str, str]
    body: Any
    request_id: str


def _error_details(body: Any) -> tuple[int | str | None, str]:
    """(error code, description) from any of the error shapes Partner Center returns."""
    if not isinstance(body, dict):
        return None, str(body or "")[:300]
    lowered = {str(k).lower(): v for k, v in body.items()}
    code = normalise_code(lowered.get("code", lowered.get("errorcode")))
    message = lowered.get("description") or lowered.get("message") or lowered.get("errormessage") or ""
    return code, str(message)[:300]


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(status: int, headers: dict[str, str], body: Any, request_id: str) -> PartnerCenterError:
    """The typed error of a non-2xx response, by the one classification (`error_table.py`)."""
    code, description = _error_details(body)
    classification = classify(status, code)
    text = f"Partner Center {status}" + (f" (code {code})" if code is not None else "") + f": {description}"
    kwargs: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "request_id": request_id,
        "description": description,
        "classification": classification,
    }
    if classification.kind is ErrorKind.THROTTLED:
        return Throttled(text, retry_after_seconds=_retry_after(headers), **kwargs)
    return ERROR_TYPES[classification.kind](text, **kwargs)


class PartnerCenterHttp:
    """Sends ApiCalls through one azure-core pipeline (created once per process and reused)."""

    def __init__(
        self, config: PartnerCenterConfig, credential: Any | None = None, pacing_table: Table | None = None
    ) -> None:
        """`pacing_table`: where the fleet's shared budget is kept (PARTNER_CENTER_PACING=shared);
        without one this process paces itself."""
        self.config = config
        credential = credential if credential is not None else build_credential(config)
        policies: list[Any] = [
            HeadersPolicy(
                {"Accept": "application/json", "MS-Contract-Version": "v1"},
            ),
            UserAgentPolicy(user_agent="collections-guard"),
            TransientOnlyRetryPolicy(
                retry_total=config.retries,
                retry_connect=config.retries,
                retry_read=config.retries,
                retry_status=config.retries,
                retry_backoff_factor=0.2,
                retry_backoff_max=2,
            ),
        ]
        self._authenticated = credential is not None
        if credential is not None:
            policies.append(BearerTokenCredentialPolicy(credential, config.scope))
        bucket: Bucket = (
            fleet_bucket_for(pacing_table, config.partner_key, config.max_rpm)
            if pacing_table is not None and config.pacing is PartnerCenterPacing.SHARED
            else bucket_for(config.partner_key, config.max_rpm)
        )
        policies.append(PacingPolicy(bucket, MAX_PACING_WAIT_SECONDS))
        transport = RequestsTransport(
            connection_timeout=config.connect_timeout_seconds, read_timeout=config.read_timeout_seconds
        )
        self._client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            base_url=config.base_url, policies=policies, transport=transport
        )

    def send(self, call: ApiCall) -> ApiResult:
        """Send one logical call (transient retries inside); raise a typed error on failure."""
        headers = {
            "MS-RequestId": call.request_id,
            "MS-CorrelationId": correlation_guid(call.correlation_id),
            **call.headers,
        }
        data = None
        if call.body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(call.body, ensure_ascii=False).encode("utf-8")
        url = self.config.base_url + call.path
        request = HttpRequest(call.method, url, params=call.params or None, headers=headers, content=data)
        options: dict[str, Any] = {}
        if self._authenticated:
            # bearer tokens only over TLS, except to a loopback simulator given as http://
            options["enforce_https"] = not self.config.base_url.startswith("http://127.0.0.1")
        try:
            response = self._client.send_request(
                request,
                connection_timeout=self.config.connect_timeout_seconds,
                read_timeout=self.config.read_timeout_seconds,
                **options,
            )
            response.read()
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise Transient(
                f"Partner Center unreachable: {type(exc).__name__}", request_id=call.request_id
            ) from None
        except ClientAuthenticationError as exc:
            # No token (wrong secret, expired certificate, app not consented): retrying will not
            # help, so it is not Transient; the executor raises it and the poison path alerts.
            raise Unauthorised(
                f"could not get a Partner Center token: {type(exc).__name__}", request_id=call.request_id
            ) from None
        except AzureError as exc:
            raise Transient(
                f"Partner Center call failed: {type(exc).__name__}", request_id=call.request_id
            ) from None
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        body = _parse_body(response.content, call.exact_numbers)
        log.info(
            "partner center call",
            extra={
                "method": call.method,
                "path": call.path,
                "status": response.status_code,
                "request_id": call.request_id,
            },
        )
        if not 200 <= response.status_code < 300:
            raise error_for(response.status_code, response_headers, body, call.request_id)
        return ApiResult(response.status_code, response_headers, body, call.request_id)


def _parse_body(content: bytes, exact_numbers: bool = False) -> Any:
    if not content:
        return None
    try:
        if exact_numbers:
            return json.loads(content.decode("utf-8-sig"), parse_float=Decimal)
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return content.decode("utf-8", errors="replace")
