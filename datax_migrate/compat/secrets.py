"""``dbutils.secrets`` on AWS: AWS Secrets Manager under a configurable naming rule.

The rule is a template over ``scope`` and ``key``: ``DATAX_SECRET_NAME`` in the environment, or
:func:`configure`; the default ``{scope}/{key}`` reads the secret named ``jdbc/password`` for
``dbutils.secrets.get("jdbc", "password")``. A template without ``{key}`` (such as ``{scope}``)
names one secret per scope holding a JSON object, whose ``key`` member is the value. Values are
never printed.
"""

from __future__ import annotations

import builtins
import json
import os
from dataclasses import dataclass
from typing import Any

from datax_migrate.compat._aws import client

DEFAULT_TEMPLATE = "{scope}/{key}"
_configured: list[str] = []


def configure(template: str) -> None:
    """Set the naming rule, e.g. ``"prod/{scope}/{key}"`` or ``"{scope}"`` (one JSON secret per scope)."""
    if "{scope}" not in template:
        raise ValueError("the secret name template must contain {scope}")
    _configured[:] = [template]


def template() -> str:
    """The naming rule in force."""
    return _configured[0] if _configured else os.environ.get("DATAX_SECRET_NAME", DEFAULT_TEMPLATE)


@dataclass(frozen=True)
class SecretMetadata:
    """What ``dbutils.secrets.list`` returns per secret."""

    key: str


@dataclass(frozen=True)
class SecretScope:
    """What ``dbutils.secrets.listScopes`` returns per scope."""

    name: str


class Secrets:
    """The ``dbutils.secrets`` API over AWS Secrets Manager."""

    def get(self, scope: str, key: str) -> str:
        """The secret's value as text."""
        rule = template()
        response = client("secretsmanager").get_secret_value(SecretId=rule.format(scope=scope, key=key))
        value = response.get("SecretString")
        if value is None:
            value = bytes(response["SecretBinary"]).decode("utf-8")
        if "{key}" in rule:
            return str(value)
        document: dict[str, Any] = json.loads(value)
        if key not in document:
            raise KeyError(f"secret {rule.format(scope=scope, key=key)!r} has no member {key!r}")
        return str(document[key])

    def getBytes(self, scope: str, key: str) -> bytes:  # noqa: N802 - the dbutils method name
        """The secret's value as bytes."""
        return self.get(scope, key).encode("utf-8")

    def list(self, scope: str) -> list[SecretMetadata]:
        """The keys of a scope."""
        rule = template()
        if "{key}" not in rule:
            return [SecretMetadata(k) for k in sorted(json.loads(self._value(rule.format(scope=scope))))]
        prefix, _, suffix = rule.format(scope=scope, key="\0").partition("\0")
        return [
            SecretMetadata(name[len(prefix) : len(name) - len(suffix)])
            for name in self._names()
            if name.startswith(prefix) and name.endswith(suffix)
        ]

    def listScopes(self) -> builtins.list[SecretScope]:  # noqa: N802 - the dbutils method name
        """The scopes the naming rule finds."""
        prefix, _, rest = template().partition("{scope}")
        separator = rest.split("{key}", 1)[0] if "{key}" in rest else rest
        scopes = {
            name[len(prefix) :].split(separator, 1)[0] if separator else name[len(prefix) :]
            for name in self._names()
            if name.startswith(prefix)
        }
        return [SecretScope(s) for s in sorted(scopes)]

    def _value(self, name: str) -> str:
        return str(client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])

    def _names(self) -> builtins.list[str]:
        pages = client("secretsmanager").get_paginator("list_secrets").paginate()
        return sorted(item["Name"] for page in pages for item in page.get("SecretList", []))
