"""The ``%%sql`` cell magic is registered in an IPython shell, and importing compat elsewhere loads no IPython."""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_compat_outside_a_shell_does_not_load_ipython() -> None:
    assert run("import sys, datax_migrate.compat; print('IPython' in sys.modules)") == "False"


def test_importing_compat_in_an_ipython_shell_registers_sql() -> None:
    code = (
        "from IPython.core.interactiveshell import InteractiveShell; shell = InteractiveShell.instance(); "
        "import datax_migrate.compat; print('sql' in shell.magics_manager.magics['cell'])"
    )
    assert run(code) == "True"
