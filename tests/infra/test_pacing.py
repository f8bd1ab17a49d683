"""Fleet-wide pacing in Azure: the Partner Center calls of every instance together stay under the
per-tenant limit (500 a minute). The mechanism is one shared budget in Table storage
(PARTNER_CENTER_PACING=shared, docs/partner-center-client.md "Fleet-wide pacing"), so the
instance cap can stay where HTTP needs it; host.json keeps each instance's concurrency modest,
since one instance can already spend the whole budget."""

from __future__ import annotations

import json

from shared.settings import PartnerCenterPacing, load_settings
from tests.infra.bicep import REPO_ROOT, template
from tests.infra.test_app_settings import bicep_settings

PARTNER_CENTER_LIMIT_PER_MINUTE = 500  # per tenant (api-throttling-guidance, subscription-resources)


def decorator(param: dict, kind: str):  # type: ignore[no-untyped-def, type-arg]
    return next(d["argument"] for d in param["decorators"] if d["type"] == kind)


def test_azure_paces_the_whole_fleet_from_one_shared_budget() -> None:
    settings = bicep_settings()
    assert settings["PARTNER_CENTER_PACING"] == PartnerCenterPacing.SHARED.value
    rpm = settings["PARTNER_CENTER_MAX_RPM"]
    converted = {"value_to_convert": "partnerCenterFleetRpm"}
    assert rpm == {"function": {"type": "string", "parameters": converted}}
    param = template("main.bicep")["parameters"]["partnerCenterFleetRpm"]
    assert param["default"] <= 0.9 * PARTNER_CENTER_LIMIT_PER_MINUTE
    # the largest value the template accepts, plus one claim of burst, is still under the limit
    from shared.adapters.partner_center.pacing import CLAIM

    assert decorator(param, "max_value") + CLAIM < PARTNER_CENTER_LIMIT_PER_MINUTE
    assert load_settings(AzureWebJobsStorage="UseDevelopmentStorage=true").partner_center_pacing is (
        PartnerCenterPacing.SHARED
    )


def test_each_instance_runs_a_modest_number_of_executors() -> None:
    host = json.loads((REPO_ROOT / "host.json").read_text(encoding="utf-8"))["extensions"]
    queues, service_bus = host["queues"], host["serviceBus"]
    per_instance = max(queues["batchSize"] + queues["newBatchThreshold"], service_bus["maxConcurrentCalls"])
    # One executor makes a few calls a second; eight at once already outrun a 450-a-minute budget,
    # so more per instance would only wait for tokens while holding customers' leases.
    assert 4 <= per_instance <= 16
