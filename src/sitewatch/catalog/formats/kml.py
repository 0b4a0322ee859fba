"""KML 2.2 and KMZ, as Google Earth Pro writes and reads them.

One Placemark per site: ``name``, an HTML ``description`` for the Google Earth balloon,
every catalog field in ``ExtendedData`` (so a round trip keeps everything) and a Point,
Polygon (outer and inner rings) or MultiGeometry. A KMZ is a zip holding ``doc.kml``.

Files from elsewhere are untrusted: XML is parsed with defusedxml (no entity expansion,
no external entities) and a KMZ's KML is read with a size cap, so a billion-laughs file,
an XXE probe or a zip bomb is refused with a one-line error instead of eating memory or
reading local files.
"""

from __future__ import annotations

import html
import io
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.formats.fields import flat_properties, record_from_properties
from sitewatch.catalog.formats.files import read_bytes
from sitewatch.catalog.records import SiteRecord, located
from sitewatch.errors import InputError

KML_NS = "http://www.opengis.net/kml/2.2"
KMZ_DOC = "doc.kml"
# Far above any real site catalog, far below what would hurt: the cap that stops a
# zip bomb from being inflated into memory.
MAX_KML_BYTES = 64 * 1024 * 1024


def _tag(name: str) -> str:
    return f"{{{KML_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    if text is not None:
        element.text = text
    return element


# ---------------------------------------------------------------- writing


def _coordinates_text(coords: Any) -> str:
    """``lon,lat`` tuples separated by spaces, at full float precision (repr)."""
    return " ".join(f"{x!r},{y!r}" for x, y, *_ in coords)


def _add_polygon(parent: ET.Element, polygon: Polygon) -> None:
    element = _sub(parent, "Polygon")
    outer = _sub(_sub(element, "outerBoundaryIs"), "LinearRing")
    _sub(outer, "coordinates", _coordinates_text(polygon.exterior.coords))
    for ring in polygon.interiors:
        inner = _sub(_sub(element, "innerBoundaryIs"), "LinearRing")
        _sub(inner, "coordinates", _coordinates_text(ring.coords))


def _add_geometry(placemark: ET.Element, geometry: BaseGeometry | None) -> None:
    if geometry is None:
        return
    if isinstance(geometry, Point):
        _sub(_sub(placemark, "Point"), "coordinates", _coordinates_text(geometry.coords))
    elif isinstance(geometry, Polygon):
        _add_polygon(placemark, geometry)
    else:
        multi = _sub(placemark, "MultiGeometry")
        for polygon in geometry.geoms:
            _add_polygon(multi, polygon)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _description(record: SiteRecord) -> str:
    """The balloon text Google Earth shows: HTML around escaped free-text values."""
    lines = [f"Category: {record.category}", f"Status: {record.status}"]  # validated slugs
    if record.country:
        lines.append(f"Country: {record.country}")
    if record.aliases:
        lines.append(f"Also known as: {_escape(', '.join(record.aliases))}")
    if record.missile_classes:
        lines.append(f"Missile classes: {_escape(', '.join(record.missile_classes))}")
    if record.uncertainty_m is not None:
        lines.append(f"Location uncertainty: about {record.uncertainty_m:g} m")
    elif record.geometry is None:
        lines.append("Location: not known")
    for source in record.sources:
        label = _escape(source.title or source.url) + (f" ({source.date})" if source.date else "")
        if source.url.startswith(("http://", "https://")):
            label = f'<a href="{html.escape(source.url, quote=True)}">{label}</a>'
        lines.append(f"Source: {label}")
    if record.notes:
        lines.append(_escape(record.notes))
    return "<br/>".join(lines)


def document_bytes(records: Sequence[SiteRecord], title: str = "sitewatch sites") -> bytes:
    """A complete KML 2.2 document."""
    root = ET.Element(_tag("kml"))
    document = _sub(root, "Document")
    _sub(document, "name", title)
    for record in records:
        placemark = _sub(document, "Placemark")
        _sub(placemark, "name", record.name)
        _sub(placemark, "description", _description(record))
        extended = _sub(placemark, "ExtendedData")
        for key, value in flat_properties(record).items():
            if not value or key == "name":
                continue  # absent reads back as the default; the name is <name>
            data = _sub(extended, "Data")
            data.set("name", key)
            _sub(data, "value", value)
        _add_geometry(placemark, record.geometry)
    ET.indent(root, space=" ")
    # KML as the default namespace, registered at each use: the registry is global and
    # another library may take the empty prefix (WeasyPrint's PDF metadata module does on
    # import), which would write every tag as ns0:kml, ns0:Placemark...
    ET.register_namespace("", KML_NS)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def dumps(records: Sequence[SiteRecord]) -> str:
    return document_bytes(records).decode("utf-8")


def write(records: Sequence[SiteRecord], path: Path) -> None:
    path.write_bytes(document_bytes(records))


def kmz_bytes(records: Sequence[SiteRecord]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(KMZ_DOC, document_bytes(records))
    return buffer.getvalue()


def write_kmz(records: Sequence[SiteRecord], path: Path) -> None:
    path.write_bytes(kmz_bytes(records))


# ---------------------------------------------------------------- reading


def _local(element: ET.Element) -> str:
    """The tag without its namespace: KML 2.0, 2.1, 2.2 and no namespace all read alike."""
    return str(element.tag).rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c) == name), None)


def _descendants(element: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in element.iter() if _local(e) == name]


def _child_text(element: ET.Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _parse_coordinates(element: ET.Element | None) -> list[tuple[float, float]]:
    text = "" if element is None else " ".join((element.text or "").split())
    text = text.replace(" ,", ",").replace(", ", ",")
    coords = []
    for token in text.split():
        parts = token.split(",")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            coords.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise InputError(f"{token!r} is not 'lon,lat[,alt]'", item="coordinates") from None
    if not coords:
        raise InputError("empty <coordinates>", item="coordinates")
    return coords


def _ring(boundary: ET.Element) -> list[tuple[float, float]]:
    ring = _child(boundary, "LinearRing")
    coords = _parse_coordinates(None if ring is None else _child(ring, "coordinates"))
    if len(coords) < 3:
        raise InputError("a polygon ring needs at least 3 positions", item="coordinates")
    return coords


def _polygon(element: ET.Element) -> Polygon:
    outer = _child(element, "outerBoundaryIs")
    if outer is None:
        raise InputError("<Polygon> without <outerBoundaryIs>", item="geometry")
    holes = [_ring(inner) for inner in element if _local(inner) == "innerBoundaryIs"]
    return Polygon(_ring(outer), holes)


def _placemark_geometry(placemark: ET.Element) -> BaseGeometry | None:
    """Point, Polygon or (MultiGeometry of) polygons; a label point beside polygons is dropped."""
    polygons = [_polygon(p) for p in _descendants(placemark, "Polygon")]
    if polygons:
        return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    points = _descendants(placemark, "Point")
    if len(points) > 1:
        raise InputError(
            f"has {len(points)} points; a site is one point or one set of polygons",
            item="geometry",
        )
    if points:
        (lon, lat), *_ = _parse_coordinates(_child(points[0], "coordinates"))
        return Point(lon, lat)
    if _descendants(placemark, "LineString") or _descendants(placemark, "LinearRing"):
        raise InputError("lines are not site geometries (draw a polygon)", item="geometry")
    return None


def _extended_data(placemark: ET.Element) -> dict[str, str]:
    """``<Data name><value>`` (Google Earth) and ``<SchemaData><SimpleData>`` (GIS tools)."""
    values: dict[str, str] = {}
    extended = _child(placemark, "ExtendedData")
    if extended is None:
        return values
    for element in extended.iter():
        name = element.get("name")
        if name is None:
            continue
        if _local(element) == "Data":
            values[name] = _child_text(element, "value")
        elif _local(element) == "SimpleData":
            values[name] = (element.text or "").strip()
    return values


def parse_document(data: bytes, source: str | Path) -> list[SiteRecord]:
    """Sites from KML bytes; ``source`` names the file in error messages."""
    try:
        root = SafeET.fromstring(data)
    except defusedxml.DefusedXmlException as error:
        raise InputError(
            f"refused: the XML uses {type(error).__name__.removesuffix('Forbidden').lower()} "
            "declarations (entity expansion or external entities; KML never needs them)",
            source=source,
        ) from None
    except ET.ParseError as error:
        raise InputError(f"not well-formed XML ({error})", source=source) from None
    if _local(root) != "kml":
        raise InputError(f"not KML: the root element is <{_local(root)}>", source=source)
    records = []
    for number, placemark in enumerate(_descendants(root, "Placemark"), start=1):
        name = _child_text(placemark, "name")
        with located(source, f"placemark {number}" + (f" {name!r}" if name else "")):
            extended = {key.lower(): value for key, value in _extended_data(placemark).items()}
            properties = {"name": name, **extended}
            if not extended:  # drawn in Google Earth: the description is all there is
                properties["notes"] = _child_text(placemark, "description")
            records.append(record_from_properties(properties, _placemark_geometry(placemark)))
    return records


def read(path: Path) -> list[SiteRecord]:
    return parse_document(read_bytes(path), path)


def read_kmz(path: Path) -> list[SiteRecord]:
    """The sites of the KMZ's main KML (``doc.kml``, else the first ``.kml``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(read_bytes(path))) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise InputError("no .kml file inside the KMZ", source=path)
            name = KMZ_DOC if KMZ_DOC in names else min(names, key=lambda n: (n.count("/"), n))
            if archive.getinfo(name).file_size > MAX_KML_BYTES:
                raise _too_big(path, name)
            with archive.open(name) as member:
                data = member.read(MAX_KML_BYTES + 1)  # the header size may lie: cap the read
            if len(data) > MAX_KML_BYTES:
                raise _too_big(path, name)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise InputError(f"not a readable KMZ (zip) file: {error}", source=path) from None
    except (RuntimeError, NotImplementedError) as error:  # encrypted or unknown compression
        raise InputError(f"cannot unpack the KMZ: {error}", source=path) from None
    return parse_document(data, f"{path}!{name}")


def _too_big(path: Path, name: str) -> InputError:
    return InputError(
        f"{name} inflates to more than {MAX_KML_BYTES // 2**20} MB; refused (zip bomb?)",
        source=path,
    )
