"""The ``datax-migrate`` command line: a thin layer over the library, one module per command (family).

Exit codes: 0 success, 1 a check found differences (or translated notebooks need a person), 2 refusal
or error (one line on stderr), 130 interrupted, 141 standard output closed early (``| head``: the
output was cut; the work was done up to that write), 143 terminated (nothing committed; an interrupt that
arrives during a commit that lands is reported, and the exit code is 0).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import os
import select
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from types import FrameType

from datax_migrate import __version__
from datax_migrate.cli import common
from datax_migrate.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_DIFFERENCES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    Terminated,
    exit_codes,
)
from datax_migrate.errors import DataxError
from datax_migrate.lazy import defer_imports

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_DIFFERENCES",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "Terminated",
    "main",
    "run",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):  # rich's Console met the closed pipe and discarded stdout
            return EXIT_BROKEN_PIPE
        raise
    except DataxError as exc:
        _fail(str(exc), args.debug)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("datax-migrate: interrupted; nothing was committed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("datax-migrate: terminated; nothing was committed", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into exit 2
        if isinstance(exc, BrokenPipeError) and _stdout_closed():  # `| head` has read what it wanted
            _discard_stdout()
            return EXIT_BROKEN_PIPE
        _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", args.debug)
        return EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The ``datax-migrate`` program: :func:`main`, then exit without tearing the modules down.

    Python's clean-up of the modules a conversion loads (pyiceberg, pyarrow, sqlalchemy, pydantic)
    takes a few tenths of a second of CPU at exit, and the process needs none of it: once exit
    handlers have run and stdout/stderr are flushed, every file is closed and every commit made.
    Daemon threads (Spark's py4j) end with the process, as they do at any Python exit.
    """
    common.OWN_PROCESS = True
    _keep_freed_memory()
    _library_defaults()
    defer_imports()
    code = main()
    # What Python's exit does before the module clean-up, in its order: wait for non-daemon
    # threads (idle executor workers are told to stop), exit handlers, flush stdout/stderr.
    getattr(threading, "_shutdown")()  # noqa: B009 - private, as the interpreter itself calls it
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError as exc:
        if not (isinstance(exc, BrokenPipeError) and _stdout_closed()):
            sys.exit(code)  # let Python report it as it always does
        _discard_stdout()
        code = EXIT_BROKEN_PIPE
    os._exit(code)


_BLAS_THREADS = "OPENBLAS_NUM_THREADS"
"""numpy's OpenBLAS starts a thread per core when numpy loads, about 0.05 s of CPU on 2 cores; the
program does no linear algebra, so its own process asks for one (a value in the environment wins)."""
_ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's buffers come from its jemalloc pool, read when pyarrow loads (a value in the environment wins).
With Arrow's default mimalloc pool a 5M-row conversion spent 13-20 % of its CPU samples in the kernel
zeroing pages that mimalloc had handed back and asked for again (``perf``), about 2 % with jemalloc;
system CPU fell by a quarter to a half in convert and reconcile, peak RSS of the partitioned 20M-row
conversion from about 263 to 220 MB (the unpartitioned one rose from about 695 to 755 MB)."""
_ARROW_JEMALLOC = "JE_ARROW_MALLOC_CONF"
"""Options of Arrow's jemalloc, read when it first allocates (a value in the environment wins): one arena
per core instead of four, and freed pages kept for reuse instead of handed back to the system by a
background thread within a second. Pages handed back come back zeroed by the kernel when asked for
again, and each arena keeps its own: a 5M-row unpartitioned conversion took about 160K page faults, and
about 100K with these options. Measured against Arrow's options, 10 interleaved runs each of the 5M-row
unpartitioned benchmark conversion: median 1.09 s against 1.19 s, peak RSS 444 against 573 MB; the
partitioned one unchanged (2.37 s against 2.38 s, 6 runs each). One arena in all (1.15 s) made the
partitioned conversion slower (2.50 s, with 0.33 s more user CPU: its threads share one arena); keeping pages with
the background thread left on doubled the system CPU of the partitioned conversion. So the process
keeps what it frees until it exits: a ``sync --every`` loop holds the peak of its largest run while it
waits (pyarrow 26's ``release_unused`` cannot hand it back: its jemalloc purge names no arena)."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt() parameters
_KEPT_BYTES, _MMAP_BYTES = 1 << 30, 32 << 20


def _library_defaults() -> None:
    """The program's own settings for numpy's OpenBLAS, Arrow's memory pool and its jemalloc; set before they load."""
    os.environ.setdefault(_BLAS_THREADS, "1")
    if sys.platform.startswith("linux"):  # pyarrow's Linux wheels have jemalloc; elsewhere Arrow's default stays
        os.environ.setdefault(_ARROW_POOL, "jemalloc")
        arenas = os.cpu_count() or 1
        os.environ.setdefault(
            _ARROW_JEMALLOC, f"narenas:{arenas},dirty_decay_ms:-1,muzzy_decay_ms:-1,background_thread:false"
        )


def _keep_freed_memory() -> None:
    """Let the program reuse the memory it frees instead of handing it back to the system at once.

    Numpy's and the compiled kernels' buffers come from the C library's heap and are freed after
    every batch; memory handed back and asked for again comes back as new pages the kernel must zero.
    So the heap keeps what is freed for the next batch. Arrow keeps its own pool (jemalloc, see
    :data:`_ARROW_POOL`): taking Arrow's buffers from this heap as well saved a little more CPU but let
    a 20M-row unpartitioned conversion's peak RSS pass 1 GB. What the environment sets already wins.
    """
    if "MALLOC_TRIM_THRESHOLD_" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not the GNU C library
        return
    mallopt(_M_TRIM_THRESHOLD, _KEPT_BYTES)  # keep up to 1 GiB of free heap instead of trimming it
    mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)  # blocks under 32 MiB come from the heap, not a fresh mmap


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (``| head`` has read enough)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() on this system, or stdout is not a file
        return False


def _discard_stdout() -> None:
    """Point standard output at the null device, so what is still buffered cannot fail again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _fail(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"datax-migrate: error: {' '.join(message.split())}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    from datax_migrate.cli import (
        benchmark,
        convert,
        cutover,
        demo,
        emit,
        emr,
        inventory,
        migrate,
        names,
        plan,
        reconcile,
        signoff,
        status,
        sync,
        translate,
    )

    parser = argparse.ArgumentParser(
        prog="datax-migrate",
        description="Move a Databricks lakehouse to AWS: Delta tables to Apache Iceberg.",
        epilog=exit_codes("0 done", "1 a check found differences (each command's --help says which)"),
    )
    parser.add_argument("--version", action="version", version=f"datax-migrate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    in_help_order = (
        convert,
        sync,
        cutover,
        reconcile,
        signoff,
        names,
        emr,
        inventory,
        translate,
        demo,
        plan,
        migrate,
        status,
    )
    for module in (*in_help_order, emit, benchmark):
        module.add_parser(commands)
    return parser
