"""``python -m datax_migrate.cli``: the ``datax-migrate`` program."""

from datax_migrate.cli import run

run()
