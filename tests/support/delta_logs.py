"""A second, deliberately naive reading of a Delta log (JSON commits only), to check the inventory against."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

COMMIT = re.compile(r"^\d{20}\.json$")
COPY_SKEW_MS = 5 * 60 * 1000


def replay_json_commits(table: Path) -> dict[str, Any]:
    """Latest protocol and metaData, the active adds, the commits and the latest commit's time.

    The time is the in-commit timestamp, else the file's modification time, else (a file dated more
    than five minutes after its own ``commitInfo.timestamp``: a copied log) ``commitInfo.timestamp``.

    Needs every JSON commit from version 0 (the corpus and the tests' tables keep them all).
    """
    protocol: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    active: dict[tuple[str, str], dict[str, Any]] = {}
    commits = sorted(p for p in (table / "_delta_log").iterdir() if COMMIT.match(p.name))
    commit_info: dict[str, Any] = {}
    for commit in commits:
        commit_info = {}
        for line in commit.read_text().splitlines():
            action = json.loads(line) if line.strip() else {}
            if "protocol" in action:
                protocol = action["protocol"]
            if "metaData" in action:
                metadata = action["metaData"]
            if "commitInfo" in action:
                commit_info = action["commitInfo"]
            for kind in ("add", "remove"):
                if kind in action:
                    dv = action[kind].get("deletionVector") or {}
                    key = (action[kind]["path"], f"{dv.get('storageType')}{dv.get('pathOrInlineDv')}{dv.get('offset')}")
                    if kind == "add":
                        active[key] = action[kind]
                    else:
                        active.pop(key, None)
    stamp_ms = commit_info.get("inCommitTimestamp") or int(commits[-1].stat().st_mtime * 1000)
    written_ms = commit_info.get("timestamp")
    if "inCommitTimestamp" not in commit_info and written_ms is not None and stamp_ms > written_ms + COPY_SKEW_MS:
        stamp_ms = written_ms  # a copied log: its file is dated after its own commitInfo.timestamp
    return {
        "protocol": protocol,
        "metadata": metadata,
        "active": list(active.values()),
        "commits": len(commits),
        "last_write": dt.datetime.fromtimestamp(stamp_ms / 1000, tz=dt.timezone.utc),
    }
