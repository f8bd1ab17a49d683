"""A small local Azure Functions host (no Core Tools needed): HTTP, timer and Storage queue
triggers of a Python v2 `func.FunctionApp`. Run it with `python -m tools.devhost`, or in-process:

    with DevHost(app, port=0, settings_defaults={...}) as host:
        urllib.request.urlopen(f"{host.base_url}/api/health")
"""

from tools.devhost.errors import (
    SERVICE_BUS_MESSAGE,
    ConfigurationError,
    DevHostError,
    FunctionNotFoundError,
    UnsupportedTriggerError,
)
from tools.devhost.host import DEFAULT_FUNCTION_KEY, FUNCTION_KEY_SETTING, DevHost

__all__ = [
    "DEFAULT_FUNCTION_KEY",
    "FUNCTION_KEY_SETTING",
    "SERVICE_BUS_MESSAGE",
    "ConfigurationError",
    "DevHost",
    "DevHostError",
    "FunctionNotFoundError",
    "UnsupportedTriggerError",
]
