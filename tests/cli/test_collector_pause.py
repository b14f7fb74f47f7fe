"""A command in a process of its own pauses the cyclic GC for its start-up, then freezes what start-up made."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from datax_migrate.cli import common
common.OWN_PROCESS = {own}
paused = common.pause_collector()
during = gc.isenabled()
common.resume_collector(paused)
print(paused, during, gc.isenabled(), gc.get_freeze_count() > 0)
"""


def probe(own: bool) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(own=own)], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_own_process_pauses_then_freezes_start_up_objects() -> None:
    assert probe(own=True) == ["True", "False", "True", "True"]


def test_a_caller_of_main_keeps_its_collector_as_it_is() -> None:
    assert probe(own=False) == ["False", "True", "True", "False"]
