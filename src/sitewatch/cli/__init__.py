"""The ``sitewatch`` command line: thin typer commands over the service functions."""
