"""Azure Table storage adapter: typed entities, ETag-guarded writes, entity-group transactions.

Rules kept here so that no caller can forget them:
- every update and delete of a row that was read carries its ETag (a conflict raises
  `ConcurrencyConflict`, never overwrites);
- a transaction holds one PartitionKey and at most 100 operations, checked before sending
  (Azurite does not enforce either; Azure does);
- queries are parameterised: a filter with a quote in it is refused, values go in `parameters`;
- an entity that Table storage would refuse (a key with a forbidden character or over 1 KiB, a
  string or binary property over 64 KiB, more than 252 properties, over 1 MiB in all) is refused
  here with `EntityRefused` naming the property, before anything is sent (Azurite checks only
  some of these; the service answers a bare 400).
"""

from __future__ import annotations

import json
import re
import threading
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, Generic, TypeVar
from uuid import UUID

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import (
    EdmType,
    TableClient,
    TableServiceClient,
    TableTransactionError,
    UpdateMode,
)
from pydantic import BaseModel, TypeAdapter

from shared.domain.money import Money
from shared.errors import ValidationFailed

MAX_TRANSACTION_OPERATIONS = 100
MAX_ENTITY_PROPERTIES = 252
MAX_ENTITY_BYTES = 1024 * 1024  # as Table storage counts them (strings in UTF-16)
MAX_PROPERTY_BYTES = 64 * 1024  # one string (UTF-16) or binary property
MAX_KEY_BYTES = 1024  # PartitionKey and RowKey, each (UTF-16)
_FORBIDDEN_KEY_CHARS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_INT32 = range(-(2**31), 2**31)
_SYSTEM_KEYS = {"PartitionKey", "RowKey", "Timestamp", "etag"}

M = TypeVar("M", bound=BaseModel)


class TableStoreError(RuntimeError):
    """Base of the errors this adapter raises."""


class ConcurrencyConflict(TableStoreError):
    """The row changed (or appeared) since it was read: re-read and decide again."""


class EntityNotFound(TableStoreError):
    """The row does not exist."""


class TransactionRefused(TableStoreError, ValueError):
    """A transaction that Table storage would refuse (mixed partitions, too many operations)."""


class EntityRefused(ValidationFailed, TableStoreError, ValueError):
    """An entity Table storage would refuse (too large, a bad key); nothing was sent.

    A ValidationFailed, so that an HTTP caller answers 422 with the reason instead of a 500."""


class UnsafeQuery(TableStoreError, ValueError):
    """A query filter with literal values in it; values must be passed as parameters."""


@dataclass(frozen=True)
class Stored(Generic[M]):
    """A model read from a table, with its keys and the ETag to guard the next write."""

    value: M
    partition_key: str
    row_key: str
    etag: str


# --- mapping between pydantic models and entities -------------------------------------------


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap_optional(args[0])
    if origin is typing.Annotated:
        return _unwrap_optional(typing.get_args(annotation)[0])
    return annotation


def _is_json_field(annotation: Any) -> bool:
    """Fields stored as a JSON string: lists, dicts, tuples, sets and nested models."""
    inner = _unwrap_optional(annotation)
    origin = typing.get_origin(inner) or inner
    if origin in (list, dict, tuple, set, frozenset):
        return True
    return isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Money


def _encode_value(value: Any) -> Any:
    if isinstance(value, Money):
        return value.to_text()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone (UTC)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return value.isoformat()  # a calendar date has no time zone: ISO text, not Edm.DateTime
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value not in _INT32:
        return (value, EdmType.INT64)
    if isinstance(value, str | int | float | bytes | UUID):
        return value
    return str(value)  # URLs, paths and other pydantic scalar types round-trip through text


def to_entity(model: BaseModel, partition_key: str, row_key: str) -> dict[str, Any]:
    """The entity for `model`: scalars as Edm types, money as text, complex fields as JSON."""
    entity: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    fields = type(model).model_fields
    for name, field in fields.items():
        value = getattr(model, name)
        if value is None:
            continue  # absent property == None on read
        if _is_json_field(field.annotation):
            entity[name] = json.dumps(
                _jsonable(field.annotation, value), separators=(",", ":"), ensure_ascii=False
            )
        else:
            entity[name] = _encode_value(value)
    if len(entity) - 2 > MAX_ENTITY_PROPERTIES:
        raise EntityRefused(f"{type(model).__name__} has more than {MAX_ENTITY_PROPERTIES} properties")
    check_entity_size(entity, type(model).__name__)
    return entity


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass"))


def check_key(key: str, what: str = "key") -> None:
    """EntityRefused unless `key` is a PartitionKey/RowKey that Table storage accepts."""
    if not isinstance(key, str):
        raise EntityRefused(f"{what} must be a string, not {type(key).__name__}")
    if _FORBIDDEN_KEY_CHARS.search(key):
        raise EntityRefused(
            f"{what} {key[:40]!r} has a character Table storage refuses in keys "
            "(/ \\ # ? or a control character)",
            errors=[{"field": what, "message": "forbidden character"}],
        )
    if _utf16_bytes(key) > MAX_KEY_BYTES:
        raise EntityRefused(
            f"{what} {key[:40]!r}... is longer than {MAX_KEY_BYTES} bytes (UTF-16)",
            errors=[{"field": what, "message": "too long"}],
        )


def _value_bytes(value: Any) -> int:
    """Size of an encoded property value as Table storage counts it."""
    if isinstance(value, tuple):  # (value, EdmType.INT64)
        return 8
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 4
    if isinstance(value, float | datetime):
        return 8
    if isinstance(value, UUID):
        return 16
    if isinstance(value, bytes):
        return len(value) + 4
    return _utf16_bytes(str(value)) + 4


def check_entity_size(entity: Mapping[str, Any], what: str = "entity") -> None:
    """EntityRefused if a key, a property or the whole entity is over Table storage's limits.

    The entity size follows the storage service's formula: 4 bytes + the keys (UTF-16) + per
    property 8 bytes + its name (UTF-16) + its value (strings: UTF-16 + 4; binary: length + 4).
    """
    partition_key, row_key = entity["PartitionKey"], entity["RowKey"]
    check_key(partition_key, "PartitionKey")
    check_key(row_key, "RowKey")
    total = 4 + _utf16_bytes(partition_key) + _utf16_bytes(row_key)
    for name, value in entity.items():
        if name in ("PartitionKey", "RowKey"):
            continue
        size = _value_bytes(value)
        if isinstance(value, str | bytes) and size - 4 > MAX_PROPERTY_BYTES:
            raise EntityRefused(
                f"{what}.{name} is {size - 4} bytes; Table storage takes at most "
                f"{MAX_PROPERTY_BYTES} bytes (32K characters) per property",
                errors=[{"field": name, "message": "too large to store"}],
            )
        total += 8 + _utf16_bytes(name) + size
    if total > MAX_ENTITY_BYTES:
        raise EntityRefused(
            f"{what} is {total} bytes; Table storage takes at most {MAX_ENTITY_BYTES} bytes per entity",
            errors=[{"field": what, "message": "too large to store"}],
        )


@lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    # Building a TypeAdapter compiles a schema: once per field type, not once per write.
    return TypeAdapter(annotation)


def _jsonable(annotation: Any, value: Any) -> Any:
    try:
        adapter = _adapter(annotation)
    except TypeError:  # an unhashable annotation: build it each time
        adapter = TypeAdapter(annotation)
    return adapter.dump_python(value, mode="json")


@lru_cache(maxsize=512)
def _json_fields(model_type: type[BaseModel]) -> frozenset[str]:
    """The fields of a model stored as JSON text (computed once per model: reads are hot)."""
    return frozenset(n for n, f in model_type.model_fields.items() if _is_json_field(f.annotation))


def from_entity(model_type: type[M], entity: Mapping[str, Any]) -> M:
    """The model for a stored entity (the inverse of `to_entity`)."""
    data: dict[str, Any] = {}
    json_fields = _json_fields(model_type)
    for name in model_type.model_fields:
        if name not in entity:
            continue
        value = entity[name]
        if hasattr(value, "value") and hasattr(value, "edm_type"):  # EntityProperty (Int64)
            value = value.value
        if isinstance(value, str) and name in json_fields:
            value = json.loads(value)
        elif isinstance(value, datetime):
            value = datetime(*value.timetuple()[:6], value.microsecond, tzinfo=UTC)
        data[name] = value
    return model_type.model_validate(data)


def _etag_of(entity: Any) -> str:
    metadata = getattr(entity, "metadata", None) or {}
    return str(metadata.get("etag", ""))


def decode(model_type: type[M], entity: Any) -> Stored[M]:
    """A raw SDK entity as a typed `Stored` value."""
    return Stored(
        value=from_entity(model_type, entity),
        partition_key=str(entity["PartitionKey"]),
        row_key=str(entity["RowKey"]),
        etag=_etag_of(entity),
    )


def prefix_range(prefix: str) -> tuple[str, str]:
    """Lower (inclusive) and upper (exclusive) RowKey bounds of every key starting with prefix."""
    if not prefix:
        raise ValueError("empty prefix")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _check_filter(query_filter: str) -> None:
    if "'" in query_filter or '"' in query_filter:
        raise UnsafeQuery(
            f"query filters take values only through @parameters, never as literals: {query_filter!r}"
        )


# --- tables -----------------------------------------------------------------------------------


class Table:
    """One table: typed reads and ETag-guarded writes."""

    def __init__(self, client: TableClient) -> None:
        self.client = client

    @property
    def name(self) -> str:
        return self.client.table_name

    def get(self, model_type: type[M], partition_key: str, row_key: str) -> Stored[M] | None:
        entity = self.get_raw(partition_key, row_key)
        return None if entity is None else decode(model_type, entity)

    def get_raw(self, partition_key: str, row_key: str) -> Any | None:
        """The raw entity, or None (also for keys that no row can have)."""
        try:
            check_key(partition_key, "PartitionKey")
            check_key(row_key, "RowKey")
        except EntityRefused:
            return None
        try:
            return self.client.get_entity(partition_key, row_key)
        except ResourceNotFoundError:
            return None

    def insert(self, model: BaseModel, partition_key: str, row_key: str) -> str:
        """Create a row; ConcurrencyConflict if it exists. Returns the new ETag."""
        try:
            meta = self.client.create_entity(to_entity(model, partition_key, row_key))
        except ResourceExistsError:
            raise ConcurrencyConflict(f"{self.name}: row {partition_key}/{row_key} already exists") from None
        return str(meta.get("etag", ""))

    def upsert(self, model: BaseModel, partition_key: str, row_key: str) -> str:
        """Create or replace a row unconditionally (only for rows no one reads to update)."""
        meta = self.client.upsert_entity(to_entity(model, partition_key, row_key), mode=UpdateMode.REPLACE)
        return str(meta.get("etag", ""))

    def update(self, model: BaseModel, partition_key: str, row_key: str, etag: str) -> str:
        """Replace a row only if it still has `etag`; ConcurrencyConflict otherwise."""
        if not etag:
            raise ValueError("an update needs the ETag of the row that was read")
        try:
            meta = self.client.update_entity(
                to_entity(model, partition_key, row_key),
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError:
            raise ConcurrencyConflict(
                f"{self.name}: row {partition_key}/{row_key} changed since it was read"
            ) from None
        except ResourceNotFoundError:
            raise ConcurrencyConflict(
                f"{self.name}: row {partition_key}/{row_key} was deleted since it was read"
            ) from None
        return str(meta.get("etag", ""))

    def delete(self, partition_key: str, row_key: str, etag: str | None = None) -> None:
        """Delete a row; with an ETag, only if unchanged (ConcurrencyConflict otherwise)."""
        check_key(partition_key, "PartitionKey")
        check_key(row_key, "RowKey")
        kwargs: dict[str, Any] = {}
        if etag:
            kwargs = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            self.client.delete_entity(partition_key, row_key, **kwargs)
        except ResourceModifiedError:
            raise ConcurrencyConflict(
                f"{self.name}: row {partition_key}/{row_key} changed since it was read"
            ) from None

    def query(
        self,
        query_filter: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        select: list[str] | None = None,
        results_per_page: int | None = None,
    ) -> Iterator[Any]:
        """Raw entities matching a parameterised filter, e.g. `PartitionKey eq @pk`."""
        _check_filter(query_filter)
        kwargs: dict[str, Any] = {}
        if select:
            kwargs["select"] = select
        if results_per_page:
            kwargs["results_per_page"] = results_per_page
        return iter(self.client.query_entities(query_filter, parameters=dict(parameters or {}), **kwargs))

    def page(
        self,
        query_filter: str,
        parameters: Mapping[str, Any] | None,
        limit: int,
        resume: Mapping[str, str] | None = None,
    ) -> tuple[list[Any], dict[str, str] | None]:
        """One page of at most `limit` raw entities (ONE round trip), and where the next page
        starts (Table storage's next PartitionKey/RowKey), or None at the end."""
        _check_filter(query_filter)
        # The SDK's token for table queries is the {PartitionKey, RowKey} dict it read from the
        # x-ms-continuation headers (typed as str in its stubs).
        start: Any = dict(resume) if resume else None
        pages: Any = self.client.query_entities(
            query_filter, parameters=dict(parameters or {}), results_per_page=limit
        ).by_page(continuation_token=start)
        entities = list(next(pages, []))
        token = pages.continuation_token
        return entities, ({str(k): str(v) for k, v in token.items()} if token else None)

    def query_models(
        self, model_type: type[M], query_filter: str, parameters: Mapping[str, Any] | None = None
    ) -> Iterator[Stored[M]]:
        for entity in self.query(query_filter, parameters):
            yield decode(model_type, entity)

    def partition(self, partition_key: str, row_prefix: str | None = None) -> Iterator[Any]:
        """Every raw entity of one partition, or of the rows whose key starts with a prefix."""
        if row_prefix is None:
            return self.query("PartitionKey eq @pk", {"pk": partition_key})
        low, high = prefix_range(row_prefix)
        return self.query(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            {"pk": partition_key, "low": low, "high": high},
        )

    def transaction(self, partition_key: str) -> Transaction:
        return Transaction(self, partition_key)


class Transaction:
    """An entity-group transaction on one partition: all operations apply, or none."""

    def __init__(self, table: Table, partition_key: str) -> None:
        self.table = table
        self.partition_key = partition_key
        self._operations: list[tuple[Any, ...]] = []
        self._row_keys: set[str] = set()

    def __len__(self) -> int:
        return len(self._operations)

    def _add(self, operation: tuple[Any, ...], partition_key: str, row_key: str) -> None:
        if partition_key != self.partition_key:
            raise TransactionRefused(
                f"a transaction holds one partition ({self.partition_key!r}), not {partition_key!r}"
            )
        if len(self._operations) >= MAX_TRANSACTION_OPERATIONS:
            raise TransactionRefused(f"a transaction holds at most {MAX_TRANSACTION_OPERATIONS} operations")
        if row_key in self._row_keys:
            raise TransactionRefused(f"row {row_key!r} appears twice in one transaction")
        self._row_keys.add(row_key)
        self._operations.append(operation)

    def create(self, model: BaseModel, row_key: str, partition_key: str | None = None) -> None:
        pk = partition_key or self.partition_key
        self._add(("create", to_entity(model, pk, row_key)), pk, row_key)

    def upsert(self, model: BaseModel, row_key: str, partition_key: str | None = None) -> None:
        pk = partition_key or self.partition_key
        self._add(("upsert", to_entity(model, pk, row_key), {"mode": UpdateMode.REPLACE}), pk, row_key)

    def update(self, model: BaseModel, row_key: str, etag: str, partition_key: str | None = None) -> None:
        if not etag:
            raise ValueError("an update needs the ETag of the row that was read")
        pk = partition_key or self.partition_key
        kwargs = {"mode": UpdateMode.REPLACE, "etag": etag, "match_condition": MatchConditions.IfNotModified}
        self._add(("update", to_entity(model, pk, row_key), kwargs), pk, row_key)

    def delete(self, row_key: str, etag: str | None = None, partition_key: str | None = None) -> None:
        pk = partition_key or self.partition_key
        check_key(pk, "PartitionKey")
        check_key(row_key, "RowKey")
        kwargs: dict[str, Any] = {}
        if etag:
            kwargs = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        self._add(("delete", {"PartitionKey": pk, "RowKey": row_key}, kwargs), pk, row_key)

    def submit(self) -> dict[str, str]:
        """Send the transaction; RowKey -> new ETag. ConcurrencyConflict if any guard fails."""
        if not self._operations:
            return {}
        try:
            results = self.table.client.submit_transaction(self._operations)
        except TableTransactionError as exc:
            if exc.status_code in (404, 409, 412):
                raise ConcurrencyConflict(
                    f"{self.table.name}: transaction on partition {self.partition_key!r} "
                    f"refused ({getattr(exc, 'error_code', None) or exc.status_code}): "
                    "a row changed since it was read"
                ) from None
            raise
        etags: dict[str, str] = {}
        for operation, result in zip(self._operations, results, strict=False):
            etags[str(operation[1]["RowKey"])] = str((result or {}).get("etag", ""))
        return etags


class TableStore:
    """The app's tables on one storage account; each table created once per process."""

    def __init__(self, service: TableServiceClient, prefix: str = "") -> None:
        self.service = service
        self.prefix = prefix
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_connection_string(cls, connection_string: str, prefix: str = "") -> TableStore:
        return cls(TableServiceClient.from_connection_string(connection_string), prefix)

    @classmethod
    def from_endpoint(cls, endpoint: str, credential: Any, prefix: str = "") -> TableStore:
        return cls(TableServiceClient(endpoint=endpoint, credential=credential), prefix)

    def table(self, name: str) -> Table:
        """The table `prefix + name`, created on first use."""
        full = f"{self.prefix}{name}"
        with self._lock:
            table = self._tables.get(full)
            if table is None:
                try:
                    self.service.create_table(full)
                except ResourceExistsError:
                    pass
                table = Table(self.service.get_table_client(full))
                self._tables[full] = table
            return table

    def ping(self) -> None:
        """Raise if Table storage does not answer (used by the health endpoint)."""
        try:
            next(iter(self.service.list_tables(results_per_page=1).by_page()), None)
        except HttpResponseError as exc:
            raise TableStoreError(f"Table storage answered {exc.status_code}") from exc

    def close(self) -> None:
        self.service.close()
