"""``python -m sitewatch ...``: the same command line as the ``sitewatch`` executable."""

from sitewatch.cli.main import run

run()
