"""Activity of a site over all its dates: ``sitewatch timeline SITE``.

:func:`~sitewatch.timeline.service.site_timeline` computes it from the workspace,
:func:`~sitewatch.timeline.service.write_timeline` writes the CSV, JSON and PNG products.
"""

from sitewatch.timeline.service import (
    Timeline,
    TimelineFiles,
    default_output_dir,
    site_timeline,
    write_timeline,
)

__all__ = ["Timeline", "TimelineFiles", "default_output_dir", "site_timeline", "write_timeline"]
