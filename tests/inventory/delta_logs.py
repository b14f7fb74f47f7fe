"""A second, deliberately naive reading of a Delta log (JSON commits only), to check the inventory against."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

COMMIT = re.compile(r"^\d{20}\.json$")


def replay_json_commits(table: Path) -> dict[str, Any]:
    """Latest protocol and metaData, the active adds, the commits and the latest commit's time.

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
    return {
        "protocol": protocol,
        "metadata": metadata,
        "active": list(active.values()),
        "commits": len(commits),
        "last_write": dt.datetime.fromtimestamp(stamp_ms / 1000, tz=dt.timezone.utc),
    }
