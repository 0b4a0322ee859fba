"""What a Sentinel-2 file name tells us: band, spacecraft, tile; and the MSI band table.

Per-band Sentinel-2 files (as distributed in L1C granules and in datasets built from them,
such as OSCD) carry no band or sensor metadata inside the GeoTIFF: the file name is the
only record of which band a file holds and which spacecraft took it. The band table gives
the STAC ``eo:bands`` common names so that other tools (odc-stac, QGIS, a STAC browser)
can find "red" or "nir" without knowing Sentinel-2's numbering.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CONSTELLATION = "sentinel-2"
INSTRUMENT = "msi"


@dataclass(frozen=True)
class MsiBand:
    """One MSI band: its STAC common name, centre wavelength and width (µm), ground sample."""

    name: str
    common_name: str
    center_wavelength: float
    full_width_half_max: float
    gsd_m: float


# Centre wavelengths and widths of Sentinel-2A MSI (ESA spectral response), in micrometres.
MSI_BANDS: tuple[MsiBand, ...] = (
    MsiBand("B01", "coastal", 0.443, 0.027, 60.0),
    MsiBand("B02", "blue", 0.490, 0.098, 10.0),
    MsiBand("B03", "green", 0.560, 0.045, 10.0),
    MsiBand("B04", "red", 0.665, 0.038, 10.0),
    MsiBand("B05", "rededge", 0.705, 0.019, 20.0),
    MsiBand("B06", "rededge", 0.740, 0.018, 20.0),
    MsiBand("B07", "rededge", 0.783, 0.028, 20.0),
    MsiBand("B08", "nir", 0.842, 0.145, 10.0),
    MsiBand("B8A", "nir08", 0.865, 0.033, 20.0),
    MsiBand("B09", "nir09", 0.945, 0.026, 60.0),
    MsiBand("B10", "cirrus", 1.375, 0.075, 60.0),
    MsiBand("B11", "swir16", 1.610, 0.143, 20.0),
    MsiBand("B12", "swir22", 2.190, 0.242, 20.0),
)
MSI_BY_NAME: dict[str, MsiBand] = {band.name: band for band in MSI_BANDS}
_MSI_ORDER: dict[str, int] = {band.name: index for index, band in enumerate(MSI_BANDS)}

_BAND_SUFFIX = re.compile(r"(?:^|[_\-.])(B(?:0[1-9]|1[0-2]|8A))$", re.IGNORECASE)
_SPACECRAFT = re.compile(r"(?:^|[^A-Za-z0-9])S2([A-D])(?=_|$)")
_MGRS_TILE = re.compile(r"(?:^|[^A-Za-z0-9])T(\d{2}[C-X][A-Z]{2})(?=[^A-Za-z0-9]|$)")


def band_from_name(stem: str) -> str | None:
    """The MSI band a per-band file holds, from its name's suffix (``..._B8A`` -> ``B8A``)."""
    match = _BAND_SUFFIX.search(stem)
    return match.group(1).upper() if match else None


def platform_from_name(stem: str) -> str | None:
    """``sentinel-2a``/``-2b``... from an ``S2A_`` prefix; ``sentinel-2`` from a bare tile id.

    A bare MGRS tile (``T31UDQ``) is only taken as Sentinel-2 evidence together with an MSI
    band suffix, because other products (HLS, Landsat ARD mosaics) also use tile ids.
    """
    spacecraft = _SPACECRAFT.search(stem)
    if spacecraft:
        return f"{CONSTELLATION}{spacecraft.group(1).lower()}"
    if _MGRS_TILE.search(stem) and band_from_name(stem):
        return CONSTELLATION
    return None


def mgrs_tile_from_name(stem: str) -> str | None:
    """The MGRS tile id (``31UDQ``) in a Sentinel-2 file name, if any."""
    match = _MGRS_TILE.search(stem)
    return match.group(1) if match else None


def band_sort_key(name: str) -> tuple[int, str]:
    """MSI bands in sensor order (B8A after B08), any other name after them, alphabetically."""
    return (_MSI_ORDER.get(name.upper(), len(_MSI_ORDER)), name)


# Which Sentinel-2 bands the change methods read when the user names none (the policy that
# picks among them is :func:`sitewatch.analysis.methods.default_bands`).

#: The four 10 m bands: what the statistical methods (CVA, IR-MAD) compare by default.
TEN_METRE_BANDS = ("B02", "B03", "B04", "B08")
#: The 10 m and 20 m land bands: what a learned method is offered by default.
LAND_BANDS = ("B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12")
#: The visible bands: a statistical method's gain/loss direction is read on these.
VISIBLE_BANDS = ("B02", "B03", "B04")


def reflectance_scale_for(band_names: Sequence[str], integer: bool) -> float | None:
    """1e-4 for integer Sentinel-2 bands (reflectance x 10000), 1 for float ones, else None
    (bands without the visible ones are not taken for Sentinel-2: no cloud test on them)."""
    if not set(VISIBLE_BANDS) <= set(band_names):
        return None
    return 1e-4 if integer else 1.0
