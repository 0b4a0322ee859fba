"""Imagery: scene ingest (files and STAC), search by site and date, windowed site stacks."""
