"""Database layer: SQLAlchemy 2 models, engine set-up and Alembic migrations.

One schema serves SQLite (the default, one file per workspace) and PostgreSQL/PostGIS
(teams). Geometry is stored as WKB in a portable binary column together with its
bounding box in four float columns: the box gives both backends the same indexed
pre-filter, and shapely does the exact test. Backend-specific code stays in this package.
"""

from sitewatch.db.engine import create_db_engine
from sitewatch.db.models import Base, Scene, SceneAsset, Site, SiteSource

__all__ = [
    "Base",
    "Scene",
    "SceneAsset",
    "Site",
    "SiteSource",
    "create_db_engine",
]
