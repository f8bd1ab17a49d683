"""Service Bus queues: duplicate detection, a history window, max deliveries, dead letters."""

from __future__ import annotations

import json
import re

from shared.settings import default_app_settings
from tests.infra.bicep import REPO_ROOT, resources_of_type, template


def queue_config() -> dict:
    queues = resources_of_type(template("modules/servicebus.bicep"), "Microsoft.ServiceBus/namespaces/queues")
    assert list(queues) == ["queues"]
    return queues["queues"]


def test_every_queue_detects_duplicates_and_dead_letters_expired_messages():
    props = queue_config()["properties"]
    assert props["requiresDuplicateDetection"] is True
    assert props["duplicateDetectionHistoryTimeWindow"] == "duplicateDetectionWindow"
    assert props["maxDeliveryCount"] == "maxDeliveryCount"
    assert props["deadLetteringOnMessageExpiration"] is True


def test_duplicate_detection_window_is_ten_minutes():
    parsed = template("modules/servicebus.bicep")
    assert parsed["parameters"]["duplicateDetectionWindow"]["default"] == "PT10M"
    main = template("main.bicep")["modules"]["serviceBus"]["config"]["params"]
    assert main["duplicateDetectionWindow"] == "PT10M"
    assert re.fullmatch(r"PT\d+M", main["duplicateDetectionWindow"])


def test_the_reconcile_and_notice_queues_are_created_with_the_names_the_app_reads():
    main = template("main.bicep")
    params = main["modules"]["serviceBus"]["config"]["params"]
    assert params["queueNames"] == ["reconcileQueueName", "noticeQueueName"]
    defaults = default_app_settings()
    assert main["variables"]["reconcileQueueName"]["value"] == defaults["RECONCILE_QUEUE_NAME"]
    assert main["variables"]["noticeQueueName"]["value"] == defaults["NOTICE_QUEUE_NAME"]
    settings = main["variables"]["behaviourSettings"]["value"]
    assert settings["RECONCILE_QUEUE_NAME"] == "reconcileQueueName"
    assert settings["NOTICE_QUEUE_NAME"] == "noticeQueueName"


def test_max_delivery_count_is_one_number_for_service_bus_the_app_and_the_host():
    main = template("main.bicep")
    assert main["modules"]["serviceBus"]["config"]["params"]["maxDeliveryCount"] == "maxDeliveryCount"
    app_value = main["variables"]["behaviourSettings"]["value"]["RECONCILE_MAX_DELIVERIES"]
    assert app_value == {
        "function": {"type": "string", "parameters": {"value_to_convert": "maxDeliveryCount"}}
    }
    default = main["parameters"]["maxDeliveryCount"]["default"]
    assert str(default) == default_app_settings()["RECONCILE_MAX_DELIVERIES"]
    host = json.loads((REPO_ROOT / "host.json").read_text(encoding="utf-8"))
    assert host["extensions"]["queues"]["maxDequeueCount"] == default
