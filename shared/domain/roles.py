"""The app roles of the Entra app registration: what a signed-in person or a machine may do.

Each HTTP route needs exactly one of these (docs/security.md has the route -> role table). A role
implies no other: a finance clerk who reads and writes holds both `Collections.Read` and
`Collections.Write`. Standard library only: the HTTP layer imports this while the app indexes.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """An Entra app role (the `value` of the role in the app registration's manifest)."""

    COLLECTIONS_READ = "Collections.Read"
    COLLECTIONS_WRITE = "Collections.Write"
    COLLECTIONS_APPROVE = "Collections.Approve"
    FRAUD_REPORT = "Fraud.Report"
    FRAUD_INVESTIGATE = "Fraud.Investigate"
    AUDIT_READ = "Audit.Read"
    ADMIN = "Admin"


# What each role lets its holder do, in both languages (the devhost's sign-in page, the docs).
ROLE_DESCRIPTIONS: dict[Role, dict[str, str]] = {
    Role.COLLECTIONS_READ: {
        "en": "Read customers, lists, batches, pending changes, alerts and reports",
        "zh-CN": "查看客户、各类列表、暂停批次、待审批变更、告警和报表",
    },
    Role.COLLECTIONS_WRITE: {
        "en": "Feed the ledger; change profiles, holds and exemptions; acknowledge alerts",
        "zh-CN": "录入账务；修改客户资料、暂停指令和豁免；确认告警",
    },
    Role.COLLECTIONS_APPROVE: {
        "en": "Approve or reject changes one person may not make alone (four-eyes)",
        "zh-CN": "批准或驳回不能由一人单独决定的变更（双人复核）",
    },
    Role.FRAUD_REPORT: {
        "en": "Report fraud or misuse",
        "zh-CN": "上报欺诈或滥用",
    },
    Role.FRAUD_INVESTIGATE: {
        "en": "Read, resolve and escalate fraud cases",
        "zh-CN": "查看、处理并升级欺诈案件",
    },
    Role.AUDIT_READ: {
        "en": "Read the audit trail",
        "zh-CN": "查看审计记录",
    },
    Role.ADMIN: {
        "en": "Switches that change how the app runs",
        "zh-CN": "更改应用运行方式的开关",
    },
}


def parse_role(value: str) -> Role | None:
    """The role named `value` (exact, as the token carries it), or None."""
    try:
        return Role(value)
    except ValueError:
        return None
