"""The Table storage adapter against a real Azurite."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from pydantic import BaseModel, HttpUrl, create_model

from functions.http_support import answer_for
from shared.adapters.tables import (
    ConcurrencyConflict,
    EntityRefused,
    TableStore,
    TransactionRefused,
    UnsafeQuery,
)
from shared.domain.money import Money
from shared.errors import ValidationFailed


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Line(BaseModel):
    sku: str
    price: Money


class Record(BaseModel):
    name: str
    balance: Money
    exact: Decimal
    at: datetime
    count: int = 0
    big: int = 0
    flag: bool = False
    color: Color = Color.RED
    tags: list[str] = []
    lines: list[Line] = []
    note: str | None = None
    due: date | None = None
    url: HttpUrl | None = None


@pytest.fixture
def store(storage_connection_string: str) -> TableStore:
    return TableStore.from_connection_string(storage_connection_string)


def sample(**changes: object) -> Record:
    base = Record(
        name="客户 A",
        balance=Money(amount=Decimal("1234567890123.45"), currency="CNY"),
        exact=Decimal("0.1000"),
        at=datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8))),
        count=7,
        big=2**45,
        flag=True,
        color=Color.BLUE,
        tags=["a", "b"],
        lines=[Line(sku="x", price=Money(amount=Decimal("0.01"), currency="USD"))],
        due=date(2026, 12, 31),
        url=HttpUrl("https://example.cn/hook?a=1"),
    )
    return base.model_copy(update=changes)


def test_money_decimal_and_datetimes_round_trip_exactly(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    record = sample()
    table.insert(record, "p1", "r1")
    stored = table.get(Record, "p1", "r1")
    assert stored is not None
    assert stored.value == record
    assert stored.value.balance.amount == Decimal("1234567890123.45")
    assert str(stored.value.exact) == "0.1000"
    assert stored.value.at == record.at and stored.value.at.tzinfo == UTC
    assert stored.value.big == 2**45
    raw = table.get_raw("p1", "r1")
    assert raw["balance"] == "1234567890123.45 CNY"  # money is text, never a float
    assert raw["due"] == "2026-12-31"  # a calendar date stays a date, with no time zone shift


def test_naive_datetime_is_refused(store: TableStore, unique_name: str) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.table(unique_name).insert(sample(at=datetime(2026, 1, 1)), "p", "r")


def test_update_with_stale_etag_is_a_conflict(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    etag = table.insert(sample(), "p", "r")
    new_etag = table.update(sample(count=8), "p", "r", etag)
    assert new_etag != etag
    with pytest.raises(ConcurrencyConflict, match="changed since it was read"):
        table.update(sample(count=9), "p", "r", etag)
    stored = table.get(Record, "p", "r")
    assert stored is not None and stored.value.count == 8


def test_insert_existing_row_is_a_conflict(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    table.insert(sample(), "p", "r")
    with pytest.raises(ConcurrencyConflict, match="already exists"):
        table.insert(sample(), "p", "r")


def test_transaction_is_all_or_nothing(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    etag = table.insert(sample(count=1), "p", "existing")
    table.update(sample(count=2), "p", "existing", etag)  # makes `etag` stale
    tx = table.transaction("p")
    tx.create(sample(), "new-1")
    tx.create(sample(), "new-2")
    tx.update(sample(count=3), "existing", etag)
    with pytest.raises(ConcurrencyConflict):
        tx.submit()
    assert table.get(Record, "p", "new-1") is None
    assert table.get(Record, "p", "new-2") is None
    stored = table.get(Record, "p", "existing")
    assert stored is not None and stored.value.count == 2

    tx = table.transaction("p")
    tx.create(sample(), "new-1")
    tx.update(sample(count=3), "existing", stored.etag)
    tx.delete("new-2")  # absent row without an etag: refused by storage, so nothing applies
    with pytest.raises(ConcurrencyConflict):
        tx.submit()
    assert table.get(Record, "p", "new-1") is None

    tx = table.transaction("p")
    tx.create(sample(), "new-1")
    tx.update(sample(count=3), "existing", stored.etag)
    etags = tx.submit()
    assert set(etags) == {"new-1", "existing"}
    again = table.get(Record, "p", "existing")
    assert again is not None and again.value.count == 3 and again.etag == etags["existing"]


def test_transaction_with_two_partitions_is_refused_before_sending(
    store: TableStore, unique_name: str
) -> None:
    table = store.table(unique_name)
    tx = table.transaction("p")
    tx.create(sample(), "a")
    with pytest.raises(TransactionRefused, match="one partition"):
        tx.create(sample(), "b", partition_key="other")
    assert len(tx) == 1


def test_transaction_with_101_operations_is_refused_before_sending(
    store: TableStore, unique_name: str
) -> None:
    table = store.table(unique_name)
    tx = table.transaction("p")
    for i in range(100):
        tx.create(sample(), f"r{i:03d}")
    with pytest.raises(TransactionRefused, match="at most 100"):
        tx.create(sample(), "r100")
    tx.submit()  # the 100 that fit are fine
    assert len(list(table.partition("p"))) == 100


def test_queries_are_parameterised_only(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    table.insert(sample(name="o'brien"), "p", "a:1")
    table.insert(sample(), "p", "a:2")
    table.insert(sample(), "p", "b:1")
    with pytest.raises(UnsafeQuery):
        list(table.query("PartitionKey eq 'p'"))
    found = list(
        table.query_models(Record, "PartitionKey eq @pk and name eq @n", {"pk": "p", "n": "o'brien"})
    )
    assert [s.row_key for s in found] == ["a:1"]
    assert [e["RowKey"] for e in table.partition("p", "a:")] == ["a:1", "a:2"]


class Blob(BaseModel):
    text: str = ""
    more: list[str] = []


def test_a_string_property_over_64_kib_is_refused_before_sending(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    table.insert(Blob(text="x" * 32_768), "p", "fits")  # 64 KiB in UTF-16: the most a property holds
    assert table.get(Blob, "p", "fits") is not None
    for row, model in {
        "ascii": Blob(text="x" * 32_769),
        "cjk": Blob(text="中" * 32_769),
        "emoji": Blob(text="😀" * 16_385),  # two UTF-16 units each
        "json": Blob(more=["y" * 20_000, "z" * 20_000]),  # complex fields are one JSON string
    }.items():
        with pytest.raises(EntityRefused, match=r"Blob\.(text|more) is \d+ bytes") as caught:
            table.insert(model, "p", row)
        assert isinstance(caught.value, ValidationFailed) and answer_for(caught.value)[0] == 422
        assert table.get(Blob, "p", row) is None
    tx = table.transaction("p")
    with pytest.raises(EntityRefused):
        tx.create(Blob(text="x" * 40_000), "tx")
    assert len(tx) == 0


def test_an_entity_over_1_mib_is_refused_before_sending(store: TableStore, unique_name: str) -> None:
    many = create_model("Many", **{f"p{i}": (str, "") for i in range(20)})  # type: ignore[call-overload]
    table = store.table(unique_name)
    table.insert(many(**{f"p{i}": "x" * 32_000 for i in range(16)}), "p", "fits")  # 16 x 64 000 bytes
    big = many(**{f"p{i}": "x" * 32_000 for i in range(17)})  # 17 x 64 000 bytes: Azurite takes it
    with pytest.raises(EntityRefused, match="at most 1048576 bytes per entity"):
        table.insert(big, "p", "big")
    assert table.get_raw("p", "big") is None


@pytest.mark.parametrize("key", ["a/b", "a\\b", "a#b", "a?b", "a\tb", "a\x7fb", "k" * 513])
def test_keys_storage_would_refuse_are_refused_and_never_found(
    store: TableStore, unique_name: str, key: str
) -> None:
    table = store.table(unique_name)
    with pytest.raises(EntityRefused):
        table.insert(Blob(), key, "r")
    with pytest.raises(EntityRefused):
        table.insert(Blob(), "p", key)
    with pytest.raises(EntityRefused):
        table.transaction("p").delete(key)
    assert table.get(Blob, key, "r") is None and table.get_raw("p", key) is None


def test_keys_at_the_limit_round_trip(store: TableStore, unique_name: str) -> None:
    table = store.table(unique_name)
    for key in ("k" * 512, "键" * 512, "a:b|c d"):
        table.insert(Blob(text=key), key, key)
        stored = table.get(Blob, key, key)
        assert stored is not None and stored.value.text == key
