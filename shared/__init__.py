"""Collections Guard: domain logic and adapters. Never imports azure.functions."""

__version__ = "0.1.0"
