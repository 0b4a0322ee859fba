"""The site catalog: sites of interest, their sources, file formats and reference data."""
