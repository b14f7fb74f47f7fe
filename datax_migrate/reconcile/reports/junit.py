"""``junit.xml``: one test case per check, so CI systems show a reconciliation like a test run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from datax_migrate.reconcile.model import Report, Status

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all, not even escaped."""


def render_junit(report: Report) -> str:
    """The ``junit.xml`` document of ``report``: ``<testsuite name="reconcile TABLE">``, a case per check.

    A failing check is a ``<failure>`` (its summary the message, its figures the text), a skipped
    check ``<skipped>``; passed, expected and tolerated checks pass.
    """
    failures = sum(1 for check in report.checks if check.status is Status.FAIL)
    skipped = sum(1 for check in report.checks if check.status is Status.SKIPPED)
    counts = {"tests": str(len(report.checks)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    suites = ET.Element("testsuites", {"name": "datax-migrate reconcile", **counts, "time": _time(report.seconds)})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {
            "name": _xml(f"reconcile {report.table}"),
            **counts,
            "time": _time(report.seconds),
            "timestamp": _xml(report.started_at),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", report.verdict),
        ("delta_location", report.source.location),
        ("delta_version", report.source.version),
        ("iceberg_location", report.target.location),
        ("iceberg_snapshot_id", report.target.snapshot_id),
        ("differences_total", report.differences_total),
        ("tool_version", report.tool_version),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _xml("" if value is None else str(value))})
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", {"classname": _xml(report.table), "name": _xml(check.name), "time": _time(check.seconds)}
        )
        if check.status is Status.FAIL:
            failure = ET.SubElement(case, "failure", {"message": _xml(check.summary), "type": check.status.value})
            failure.text = json.dumps(check.detail, indent=2, default=str)
        elif check.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", {"message": _xml(check.summary)})
        else:
            ET.SubElement(case, "system-out").text = _xml(f"{check.status.value}: {check.summary}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _time(seconds: float) -> str:
    return f"{seconds:.3f}"
