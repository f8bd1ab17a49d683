"""Alert rules: dead letters, a scan that failed or did not run, the cap hit, Partner Center failing."""

from __future__ import annotations

import re

from tests.infra.bicep import REPO_ROOT, resources_of_type, template, text

METRIC_ALERT = "Microsoft.Insights/metricAlerts"
LOG_ALERT = "Microsoft.Insights/scheduledQueryRules"


def alerts() -> dict:
    return template("modules/alerts.bicep")


def log_rule(name: str) -> dict:
    rule = resources_of_type(alerts(), LOG_ALERT)[name]
    assert rule["properties"]["scopes"] == ["applicationInsightsId"]
    assert [text(a) for a in rule["properties"]["actions"]["actionGroups"]] == ["actionGroup.id"]
    assert rule["properties"]["enabled"] is True
    (criterion,) = rule["properties"]["criteria"]["allOf"]
    return {**rule["properties"], "criterion": criterion}


def test_the_expected_alerts_exist():
    assert set(resources_of_type(alerts(), METRIC_ALERT)) == {"deadLetters"}
    assert set(resources_of_type(alerts(), LOG_ALERT)) == {
        "scanMissing",
        "scanFailed",
        "scanCapped",
        "collectionsAlert",
        "partnerCenterFailing",
    }


def test_dead_letter_count_above_zero_on_every_queue():
    rule = resources_of_type(alerts(), METRIC_ALERT)["deadLetters"]["properties"]
    assert rule["scopes"] == ["serviceBusNamespaceId"]
    (criterion,) = rule["criteria"]["allOf"]
    assert criterion["metricName"] == "DeadletteredMessages"
    assert criterion["metricNamespace"] == "Microsoft.ServiceBus/namespaces"
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)
    assert criterion["dimensions"] == [{"name": "EntityName", "operator": "Include", "values": ["*"]}]
    assert [text(a["actionGroupId"]) for a in rule["actions"]] == ["actionGroup.id"]


def test_scan_that_did_not_run_fires_without_a_success_in_two_hours():
    rule = log_rule("scanMissing")
    criterion = rule["criterion"]
    assert 'operation_Name =~ "${scanFunctionName}"' in criterion["query"]
    assert "success == true" in criterion["query"]
    assert (criterion["operator"], criterion["threshold"]) == ("LessThan", 1)
    assert rule["windowSize"] == "PT${scanMissingHours}H"
    assert alerts()["parameters"]["scanMissingHours"]["default"] == 2
    assert template("main.bicep")["modules"]["alerts"]["config"]["params"]["scanFunctionName"] == (
        "collections_scan"
    )


def test_scan_that_failed_counts_failed_runs_and_exceptions():
    criterion = log_rule("scanFailed")["criterion"]
    assert "success == false" in criterion["query"]
    assert "exceptions" in criterion["query"]
    # An invalid policy stops the scan without failing the invocation: only its metric tells.
    assert 'name == "collections.scan_policy_invalid"' in criterion["query"]
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)


def test_cap_hit_reads_the_cap_reached_metric():
    criterion = log_rule("scanCapped")["criterion"]
    assert 'name == "collections.cap_reached"' in criterion["query"]
    assert 'customDimensions.metric) == "collections.cap_reached"' in criterion["query"]
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)


def test_collections_alert_reads_the_collections_alert_metric():
    criterion = log_rule("collectionsAlert")["criterion"]
    assert 'name == "collections.alert"' in criterion["query"]
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)


def test_partner_center_failing_reads_reconcile_alerts_and_failed_dependencies():
    criterion = log_rule("partnerCenterFailing")["criterion"]
    assert 'name == "reconcile.alert"' in criterion["query"]
    assert "dependencies" in criterion["query"] and "success == false" in criterion["query"]
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)


def test_action_group_emails_the_address_given_as_a_parameter():
    parsed = alerts()
    group = resources_of_type(parsed, "Microsoft.Insights/actionGroups")["actionGroup"]
    receivers = group["properties"]["emailReceivers"]["operator"]["operands"]["false_value"]
    assert receivers[0]["emailAddress"] == "alertEmail"
    assert template("main.bicep")["modules"]["alerts"]["config"]["params"]["alertEmail"] == "alertEmail"
    assert template("main.bicep")["parameters"]["alertEmail"]["type"] == "string"


def test_every_metric_an_alert_reads_is_emitted_by_the_code():
    """A renamed metric would silence its alert; the names must match `metric("...")` calls."""
    queries = " ".join(
        rule["properties"]["criteria"]["allOf"][0]["query"]
        for rule in resources_of_type(alerts(), LOG_ALERT).values()
    )
    read = set(re.findall(r'name == "([a-z_.]+)"', queries))
    assert read == {
        "collections.alert",
        "collections.cap_reached",
        "collections.scan_policy_invalid",
        "reconcile.alert",
    }
    source = " ".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "shared").rglob("*.py"))
    emitted = set(re.findall(r'metric\(\s*"([a-z_.]+)"', source))
    assert read <= emitted
