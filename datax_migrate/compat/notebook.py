"""``dbutils.notebook`` and ``%run`` on AWS.

``dbutils.notebook.run`` executes the child notebook in its own kernel through papermill, its
arguments as parameters; the child's ``dbutils.notebook.exit(value)`` ends it and is the return
value. ``%run`` becomes :func:`include_notebook`, which runs the child's cells in the caller's
namespace, as Databricks does.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXIT_MIME = "application/vnd.datax.notebook-exit+json"
"""The output type that carries a child notebook's exit value."""


class NotebookExit(Exception):  # noqa: N818 - named after what it is: the notebook exiting
    """Raised by ``dbutils.notebook.exit`` to stop the notebook (its value is in the output)."""


class NotebookRunner:
    """The ``dbutils.notebook`` API."""

    def run(self, path: str, timeout_seconds: int = 0, arguments: Mapping[str, Any] | None = None) -> str:
        """Run a notebook with papermill and return what it passed to ``dbutils.notebook.exit`` (or ``""``)."""
        try:
            import papermill
        except ImportError:
            raise ImportError("dbutils.notebook.run needs papermill: pip install 'datax-migrate[notebooks]'") from None
        source = _notebook_file(path)
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "output.ipynb"
            try:
                papermill.execute_notebook(
                    str(source),
                    str(output),
                    parameters=dict(arguments or {}),
                    execution_timeout=timeout_seconds or None,
                    progress_bar=False,
                    cwd=str(source.parent),
                )
            except papermill.PapermillExecutionError as exc:
                if exc.ename != NotebookExit.__name__:
                    raise
            return _exit_value(json.loads(output.read_text(encoding="utf-8")))

    def exit(self, value: object) -> None:
        """End this notebook, handing ``value`` (as text) to the notebook that ran it."""
        try:
            from IPython.display import display
        except ImportError:
            pass
        else:
            display({EXIT_MIME: {"value": str(value)}}, raw=True)
        raise NotebookExit(str(value))


def include_notebook(path: str, namespace: dict[str, Any]) -> None:
    """Run a translated notebook's code cells in ``namespace`` (what ``%run`` does on Databricks).

    ``%%sql`` cells run through ``spark.sql``; other magics run through IPython when there is one.
    """
    document = json.loads(_notebook_file(path).read_text(encoding="utf-8"))
    shell = _ipython()
    for cell in document.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if source.startswith("%%sql"):
            namespace["spark"].sql(source.split("\n", 1)[1] if "\n" in source else "")
        elif source.lstrip().startswith("%") and shell is not None:
            shell.run_cell(source)
        else:
            exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - running the notebook is the point


def _notebook_file(path: str) -> Path:
    file = Path(path)
    return file if file.suffix == ".ipynb" else file.with_name(file.name + ".ipynb")


def _exit_value(document: dict[str, Any]) -> str:
    for cell in document.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if EXIT_MIME in data:
                return str(data[EXIT_MIME]["value"])
    return ""


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
