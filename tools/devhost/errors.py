"""Exceptions raised by the local Functions host."""

from __future__ import annotations


class DevHostError(Exception):
    """Base class: the host cannot start or cannot do what was asked."""


class ConfigurationError(DevHostError):
    """A setting, binding, schedule, route or host.json value is missing or invalid."""


class UnsupportedTriggerError(DevHostError):
    """The app uses a trigger that this local host cannot run (for example Service Bus)."""


class FunctionNotFoundError(DevHostError):
    """No function with the given name is registered on the app."""


SERVICE_BUS_MESSAGE = (
    "Service Bus triggers cannot run on the local host; "
    "set QUEUE_TRANSPORT=storage to use Storage queues locally"
)
