"""S3 Tables maintenance settings from catalog properties, sent with PutTableMaintenanceConfiguration.

Flat properties (the config's values are strings), all optional:

=============================================== =============================================
``s3tables.maintenance.compaction``             ``enabled`` or ``disabled``
``s3tables.maintenance.target-file-size-mb``    compaction target file size (64..512)
``s3tables.maintenance.compaction-strategy``    ``auto``, ``binpack``, ``sort`` or ``z-order``
``s3tables.maintenance.snapshots``              ``enabled`` or ``disabled``
``s3tables.maintenance.min-snapshots-to-keep``  snapshots always kept
``s3tables.maintenance.max-snapshot-age-hours`` older snapshots expire
=============================================== =============================================

A setting given without its ``enabled``/``disabled`` switch enables that kind of maintenance.

History and sync keep every snapshot they write: see :mod:`.retention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datax_migrate.errors import ConfigError

PREFIX = "s3tables.maintenance."
_SWITCHES = {"compaction": "icebergCompaction", "snapshots": "icebergSnapshotManagement"}
_SETTINGS = {
    "target-file-size-mb": ("compaction", "targetFileSizeMB", int),
    "compaction-strategy": ("compaction", "strategy", str),
    "min-snapshots-to-keep": ("snapshots", "minSnapshotsToKeep", int),
    "max-snapshot-age-hours": ("snapshots", "maxSnapshotAgeHours", int),
}


def maintenance_requests(properties: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``type`` and ``value`` arguments of each PutTableMaintenanceConfiguration call to make.

    Raises:
        ConfigError: an unknown ``s3tables.maintenance.*`` key, or a value of the wrong kind.

    """
    given = {k.removeprefix(PREFIX): v for k, v in properties.items() if k.startswith(PREFIX)}
    unknown = sorted(set(given) - set(_SWITCHES) - set(_SETTINGS))
    if unknown:
        known = ", ".join(PREFIX + k for k in [*_SWITCHES, *_SETTINGS])
        raise ConfigError(f"unknown maintenance setting(s) {', '.join(PREFIX + k for k in unknown)} (known: {known})")
    requests = []
    for switch, kind in _SWITCHES.items():
        settings = {}
        for key, (owner, field, convert) in _SETTINGS.items():
            if owner == switch and key in given:
                settings[field] = _converted(key, given[key], convert)
        if switch not in given and not settings:
            continue
        status = given.get(switch, "enabled")
        if status not in ("enabled", "disabled"):
            raise ConfigError(f"{PREFIX}{switch} must be enabled or disabled, not {status!r}")
        value: dict[str, Any] = {"status": status}
        if settings:
            value["settings"] = {kind: settings}
        requests.append({"type": kind, "value": value})
    return requests


def _converted(key: str, text: str, convert: type) -> Any:
    try:
        return convert(text)
    except ValueError:
        raise ConfigError(f"{PREFIX}{key} must be a whole number, not {text!r}") from None


def configures_snapshots(properties: Mapping[str, str]) -> bool:
    """Whether the catalog's ``s3tables.maintenance.*`` settings say how snapshots expire."""
    keys = {"snapshots", *(key for key, (owner, _, _) in _SETTINGS.items() if owner == "snapshots")}
    return any(PREFIX + key in properties for key in keys)
