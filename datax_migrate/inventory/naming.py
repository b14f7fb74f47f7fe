"""The name of a table found in storage: ``schema.table`` from its folders.

The table is named after its folder, unless that folder's name is generic (:data:`GENERIC_FOLDERS`,
in any case): then after the nearest enclosing folder whose name is not, so a table stored at
``lake/sales/delta/`` is ``sales``, not ``delta``. The schema is the folder path between the scan
root and that folder (levels joined with ``/``), or the name of the folder above it when there is
none in between (the scan root's own name for a table directly below the root).

A name map (``datax-migrate names``, ``--name-map``) gives any of these tables another target.
"""

from __future__ import annotations

GENERIC_FOLDERS = frozenset({"data", "delta", "table", "tables"})
"""Folder names that say how a table is stored, not what it holds."""

FALLBACK_SCHEMA = "storage"
"""The schema of a table with no folder above the one it is named after."""


def storage_table_name(root: str, path: str) -> tuple[str, str]:
    """The ``(schema, table)`` name of the table stored at ``path``, found by a scan of ``root``.

    Args:
        root: The scan's root folder (a path, without a URI scheme).
        path: The table's folder (a path below ``root``, or ``root`` itself).

    Returns:
        The schema and table names, unquoted.

    """
    folders = [part for part in path.split("/") if part]
    root_folders = [part for part in root.split("/") if part]
    below_root = folders[: len(root_folders)] == root_folders
    named = len(folders) - 1
    while named > 0 and folders[named].lower() in GENERIC_FOLDERS:
        named -= 1
    between = folders[len(root_folders) if below_root else 0 : named]
    if between:
        schema = "/".join(between)
    else:
        schema = folders[named - 1] if named > 0 else FALLBACK_SCHEMA
    return schema, folders[named] if folders else FALLBACK_SCHEMA
