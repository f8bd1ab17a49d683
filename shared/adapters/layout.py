"""Table names and row-key layout of the customer partition (one partition per customer).

Every row about one customer lives under PartitionKey = customer id in the `customers` table,
so any change to a customer (state, holds, notices, audit) is one entity-group transaction.
"""

from __future__ import annotations

CUSTOMERS_TABLE = "customers"
SCHEDULE_TABLE = "schedule"
CASES_TABLE = "cases"
IDEMPOTENCY_TABLE = "idempotency"
EXPOSURE_TABLE = "exposure"  # the exposure refresh: its run row and the tallies of a run
PACING_TABLE = "pacing"  # the fleet's shared Partner Center budget (one row per partner tenant)

PROFILE_ROW = "profile"
STATE_ROW = "state"
SHADOW_ROW = "shadow"  # dry run's would-be collections state (see services/collections/shadow.py)
AUDIT_HEAD_ROW = "audithead"
EXPOSURE_ROW = "exposure"  # what the customer is running up (services/exposure)
CREDIT_ROW = "credit"  # where the customer stands against its credit limit
USAGE_ROW = "usage"  # daily charges, meters seen, seat counts (the anomaly baseline)

INVOICE_PREFIX = "inv:"
PAYMENT_PREFIX = "pay:"
HOLD_PREFIX = "hold:"
SUBSCRIPTION_PREFIX = "sub:"
NOTICE_PREFIX = "notice:"
EXEMPTION_PREFIX = "exempt:"
AUDIT_PREFIX = "audit:"
LEASE_PREFIX = "lease:"  # per-customer leases (`lease:reconcile`: one executor per customer)
RECONCILE_LEASE = "reconcile"

# Partition for partner-wide records (approvals, scan runs) that belong to no one customer.
PARTNER_PARTITION = "_partner"
MODE_ROW = "mode"  # in the partner partition: the enforcement mode the scan last saw

_AUDIT_SEQ_DIGITS = 12
_AUDIT_SEQ_MAX = 10**_AUDIT_SEQ_DIGITS - 1


def invoice_row(invoice_id: str) -> str:
    return INVOICE_PREFIX + invoice_id


def payment_row(payment_id: str) -> str:
    return PAYMENT_PREFIX + payment_id


def hold_row(hold_id: str) -> str:
    return HOLD_PREFIX + hold_id


def subscription_row(subscription_id: str) -> str:
    return SUBSCRIPTION_PREFIX + subscription_id


def notice_row(notice_id: str) -> str:
    return NOTICE_PREFIX + notice_id


def exemption_row(exemption_id: str) -> str:
    return EXEMPTION_PREFIX + exemption_id


def audit_row(seq: int) -> str:
    """Inverted sequence number, so that a forward scan of the partition reads newest first."""
    if not 0 < seq <= _AUDIT_SEQ_MAX:
        raise ValueError("audit sequence out of range")
    return f"{AUDIT_PREFIX}{_AUDIT_SEQ_MAX - seq:0{_AUDIT_SEQ_DIGITS}d}"
