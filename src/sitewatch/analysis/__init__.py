"""Algorithms only: numpy/xarray in, numpy/xarray out. No files, no database."""
