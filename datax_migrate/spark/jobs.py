"""Run one Python function per item as Spark tasks, with results streaming back to the driver.

Each finished task reports its result through an accumulator, which the driver polls: callers see
results (for progress, and to clean up after a failure) while the job runs, not only at its end.
A task that raises :class:`~datax_migrate.errors.DataxError` (a missing file, a value that cannot
be converted) reports it instead of failing, since Spark would only retry it in vain; the driver
then cancels the job and raises it. Any other failure is left to Spark's task retries
(``spark.task.maxFailures``); one that persists fails the job with :class:`SparkJobError`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from datax_migrate.errors import DataxError

Item = TypeVar("Item")
Result = TypeVar("Result")
_DONE, _FAILED = "done", "failed"


class SparkJobError(DataxError):
    """A Spark job of datax-migrate failed; the message holds the executor's last error line."""


def run_tasks(
    spark: Any,
    items: Sequence[Item],
    task: Callable[[Item], Result],
    on_result: Callable[[int, Result], None],
    slices: int | None = None,
    poll_seconds: float = 0.25,
) -> None:
    """Run ``task(item)`` for every item in Spark tasks; ``on_result(index, result)`` hears each on the driver.

    Items are dealt round-robin into ``slices`` Spark tasks (default: one per item), so a list sorted
    largest first spreads evenly. Each Spark task costs a fixed scheduling overhead (a tenth of a
    second or more), so many small items should share a few tasks per core. Results reach the
    driver when their Spark task ends. ``task`` must be picklable (cloudpickle): it runs in the
    executors' Python workers.

    Raises:
        DataxError: the first one a task raised; the job is cancelled.
        SparkJobError: the job failed otherwise, or ended without the result of some item.
        KeyboardInterrupt: on Ctrl-C, after cancelling the job.
    """
    if not items:
        return
    from pyspark.accumulators import AccumulatorParam

    class Outcomes(AccumulatorParam):  # type: ignore[type-arg]
        def zero(self, value: list[Any]) -> list[Any]:
            return []

        def addInPlace(self, value1: list[Any], value2: list[Any]) -> list[Any]:  # noqa: N802 - pyspark's name
            value1.extend(value2)
            return value1

    context = spark.sparkContext
    outcomes = context.accumulator([], Outcomes())

    def run_partition(numbered: Any) -> None:
        for index, item in numbered:
            try:
                result = task(item)
            except DataxError as exc:
                outcomes.add([(index, _FAILED, exc)])
                return
            outcomes.add([(index, _DONE, result)])

    job = _Job(context, f"datax-migrate-{uuid.uuid4().hex}")
    count = max(1, min(slices or len(items), len(items)))
    dealt = [(index, items[index]) for first in range(count) for index in range(first, len(items), count)]
    job.start(lambda: context.parallelize(dealt, count).foreachPartition(run_partition))
    finished_items: set[int] = set()
    errors: list[DataxError] = []
    seen = 0
    try:
        while True:
            finished = not job.running(poll_seconds)
            current = outcomes.value
            for index, status, value in current[seen:]:
                if status == _FAILED:
                    errors.append(value)
                    job.cancel()
                elif index not in finished_items:
                    finished_items.add(index)
                    on_result(index, value)
            seen = len(current)
            if finished:
                break
    except BaseException:
        job.cancel()
        raise
    if errors:
        raise errors[0]
    if job.failure is not None:
        raise SparkJobError(f"the Spark job failed: {_last_error_line(job.failure)}") from job.failure
    missing = sorted(set(range(len(items))) - finished_items)
    if missing:
        raise SparkJobError(f"the Spark job ended without the results of tasks {missing[:10]}")


class _Job:
    """One Spark action on a driver thread of its own, in a job group so that it can be cancelled."""

    def __init__(self, context: Any, group_id: str) -> None:
        self.context, self.group_id = context, group_id
        self.failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, action: Callable[[], None]) -> None:
        def submit() -> None:
            self.context.setJobGroup(self.group_id, "datax-migrate", interruptOnCancel=True)
            try:
                action()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.failure = exc

        self._thread = threading.Thread(target=submit, name="datax-spark-job", daemon=True)
        self._thread.start()

    def running(self, wait_seconds: float) -> bool:
        assert self._thread is not None
        self._thread.join(wait_seconds)
        return self._thread.is_alive()

    def cancel(self, drain_seconds: float = 60.0) -> None:
        """Cancel the job, and wait until none of its tasks runs any more (so none writes after this)."""
        self.context.cancelJobGroup(self.group_id)
        if self._thread is not None:
            self._thread.join()
        tracker = self.context.statusTracker()
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline:
            stages = [
                info
                for job_id in tracker.getJobIdsForGroup(self.group_id)
                if (job := tracker.getJobInfo(job_id)) is not None
                for stage_id in job.stageIds
                if (info := tracker.getStageInfo(stage_id)) is not None
            ]
            if not any(stage.numActiveTasks for stage in stages):
                return
            time.sleep(0.1)


def _last_error_line(failure: BaseException) -> str:
    """The Python error an executor reported, out of a Py4J exception's text (or the text itself)."""
    lines = [line.strip() for line in str(failure).splitlines() if line.strip()]
    errors = [line for line in lines if ": " in line and not line.startswith(("at ", "File ", "Traceback"))]
    python = [line for line in errors if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return (python or errors or lines or [type(failure).__name__])[-1][:500]
