"""Wide-area scans: a tile grid over an area, one change task per tile, candidates out."""
