"""Change detection runs: the service layer between the analysis algorithms and users.

:func:`~sitewatch.detect.pair.detect_pair` compares two scenes on disk,
:func:`~sitewatch.detect.site.detect_site` two dates of a site stack stored as a run in
the workspace; both go through :func:`~sitewatch.detect.pipeline.run_detection`.
"""
