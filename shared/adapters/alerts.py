"""Alerts staff act on, in partition `_alerts` of the customers table: every audit action
`alert.*` (reconcile failures and refusals, poison messages, subscriptions whose ownership is
undecided, suspensions left alone, undelivered warnings, a quiet payments feed, a missing
calendar year, ...), fraud holds withheld from protected customers, suspension batches held
back by the cap. Each kind has a title in zh-CN and en (`TITLES`).

An alert is raised by its audit entry: `AuditLog.stage` writes the alert row for every entry
whose action raises one (`alert.*`, and the few named in `ALERTING_ACTIONS`) before the entry's
own transaction, under an id derived from the entry, so a retried transaction writes the same
row again instead of a second alert. Rows are `open:{alert_id}` until a named person
acknowledges them, which moves them to `ack:{alert_id}` in one transaction (same partition).
Ids sort newest first.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shared.adapters.tables import ConcurrencyConflict, Stored, Table, decode
from shared.domain.identity import ActorRef

ALERTS_PARTITION = "_alerts"
_MAX_MILLIS = 10**14
ALERTING_ACTIONS = {
    "collections.cap_reached": "cap_reached",
    "fraud.alert_protected_customer": "fraud_protected_customer",
}
TITLES: dict[str, dict[str, str]] = {
    "reconcile_failed": {"zh-CN": "合作伙伴中心同步失败", "en": "Partner Center reconcile failed"},
    "poison_message": {"zh-CN": "同步消息进入死信队列", "en": "A reconcile message went to the poison queue"},
    "subscription_refused": {
        "zh-CN": "合作伙伴中心拒绝了订阅变更",
        "en": "Partner Center refused a subscription change",
    },
    "partner_center_unrecognised_error": {
        "zh-CN": "合作伙伴中心返回了无法识别的错误",
        "en": "Partner Center answered with an unrecognised error",
    },
    "partner_center_token_refused": {
        "zh-CN": "合作伙伴中心拒绝了本应用的凭据",
        "en": "Partner Center refused the app's credentials",
    },
    "customer_unknown_at_partner_center": {
        "zh-CN": "合作伙伴中心中找不到该客户",
        "en": "Partner Center does not know the customer",
    },
    "ownership_undecided": {
        "zh-CN": "无法确定订阅是否由本应用暂停，需人工判断",
        "en": "Who suspended a subscription is unknown: a person decides",
    },
    "suspension_left_alone": {
        "zh-CN": "他人暂停的订阅未被处理",
        "en": "A suspension by someone else was left alone",
    },
    "auto_renew_not_restored": {
        "zh-CN": "订阅恢复后未能恢复自动续订",
        "en": "Auto-renew was not restored after reactivation",
    },
    "drift_sweep_failures": {"zh-CN": "一致性巡检多次失败", "en": "The drift sweep keeps failing"},
    "fraud_protected_customer": {
        "zh-CN": "受保护客户的欺诈暂停被拦下",
        "en": "A fraud hold was withheld: the customer is protected",
    },
    "cap_reached": {
        "zh-CN": "超过单次暂停上限，暂停等待审批",
        "en": "Suspensions held back by the cap, waiting for approval",
    },
    "warning_undelivered": {"zh-CN": "暂停警告未能送达", "en": "A warning could not be delivered"},
    "payments_feed_quiet": {
        "zh-CN": "付款数据多日未更新，请检查付款数据源",
        "en": "No payment posted for days: check the payments feed",
    },
    "overdue_jump": {
        "zh-CN": "逾期客户数量骤增，请检查付款数据源",
        "en": "Customers falling overdue jumped: check the payments feed",
    },
    "credit_threshold": {
        "zh-CN": "客户信用敞口接近额度",
        "en": "A customer's exposure is near its credit limit",
    },
    "credit_limit_reached": {
        "zh-CN": "客户信用敞口已达额度",
        "en": "A customer's exposure has reached its credit limit",
    },
    "credit_holds_capped": {
        "zh-CN": "超过单次信用暂停上限，其余客户等待下次刷新",
        "en": "Credit holds capped: the other customers wait for the next refresh",
    },
    "exposure_listing_refused": {
        "zh-CN": "合作伙伴中心拒绝了未开票费用的读取",
        "en": "Partner Center refused a read of unbilled charges",
    },
    "calendar_year_missing": {
        "zh-CN": "政策缺少明年的节假日安排",
        "en": "The policy lacks next year's days off",
    },
}
GENERIC_TITLE = {"zh-CN": "告警", "en": "Alert"}


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class Alert(BaseModel):
    alert_id: str
    kind: str
    title: dict[str, str]
    status: AlertStatus = AlertStatus.OPEN
    customer_id: str | None = None
    reason: str = Field(default="", max_length=4000)
    details: dict[str, Any] = Field(default_factory=dict)
    raised_at: datetime
    raised_by: str
    correlation_id: str
    acknowledged_by: ActorRef | None = None
    acknowledged_at: datetime | None = None
    note: str | None = Field(default=None, max_length=2000)


def alert_kind(action: str) -> str | None:
    """The kind of alert an audit action raises, or None."""
    if action.startswith("alert."):
        return action.removeprefix("alert.")
    return ALERTING_ACTIONS.get(action)


def alert_id_for(
    partition: str, action: str, at: datetime, correlation_id: str, reason: str, details: Any
) -> str:
    """Newest first (inverted milliseconds), then a digest of the entry: the same entry, the same id."""
    canonical = json.dumps(
        [partition, action, at.isoformat(), correlation_id, reason, details], sort_keys=True, default=str
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16].upper()
    return f"{_MAX_MILLIS - int(at.timestamp() * 1000):014d}-{digest}"


def _row(status: AlertStatus, alert_id: str) -> str:
    return f"{'open' if status is AlertStatus.OPEN else 'ack'}:{alert_id}"


class AlertStore:
    """The alerts of one customers table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def raise_alert(self, alert: Alert) -> None:
        """Write the open alert (again: a retried audit writes the same row)."""
        if self.table.get_raw(ALERTS_PARTITION, _row(AlertStatus.ACKNOWLEDGED, alert.alert_id)) is not None:
            return  # acknowledged already: a retry must not open it again
        self.table.upsert(alert, ALERTS_PARTITION, _row(AlertStatus.OPEN, alert.alert_id))

    def get(self, alert_id: str) -> Stored[Alert] | None:
        for status in AlertStatus:
            found = self.table.get(Alert, ALERTS_PARTITION, _row(status, alert_id))
            if found is not None:
                return found
        return None

    def acknowledge(self, stored: Stored[Alert], acknowledged: Alert) -> Alert:
        """Move an open alert to acknowledged (one transaction); ConcurrencyConflict if it moved."""
        tx = self.table.transaction(ALERTS_PARTITION)
        tx.delete(stored.row_key, etag=stored.etag)
        tx.create(acknowledged, _row(AlertStatus.ACKNOWLEDGED, acknowledged.alert_id))
        tx.submit()
        return acknowledged

    def page(
        self,
        status: AlertStatus,
        kind: str | None,
        customer_id: str | None,
        limit: int,
        resume: dict[str, str] | None,
    ) -> tuple[list[Alert], dict[str, str] | None]:
        prefix = _row(status, "")
        query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
        params: dict[str, Any] = {"pk": ALERTS_PARTITION, "low": prefix, "high": prefix[:-1] + ";"}
        if kind:
            query, params["kind"] = query + " and kind eq @kind", kind
        if customer_id:
            query, params["cid"] = query + " and customer_id eq @cid", customer_id
        raw, resume_at = self.table.page(query, params, limit, resume)
        return [decode(Alert, e).value for e in raw], resume_at


__all__ = ["ALERTS_PARTITION", "Alert", "AlertStatus", "AlertStore", "ConcurrencyConflict", "alert_kind"]
