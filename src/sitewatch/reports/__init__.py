"""Reports: a site's dossier and a declaration's report, as self-contained HTML and PDF.

A presentation sibling of ``cli/`` and ``web/``: it gathers through the service functions
(catalog, imagery, detect, timeline, verify, evidence), renders with Jinja and WeasyPrint,
and records each report in the ledger (:mod:`sitewatch.evidence.report_record`). Nothing
below imports it.
"""
