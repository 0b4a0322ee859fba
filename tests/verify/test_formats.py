"""Declaration files: the documented JSON, CSV, and one-line errors naming item and field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.verify.formats import declaration_schema, read_declaration

ITEM = {"name": "Sino-ri", "category": "missile-operating-base", "status": "operational"}


def _write(tmp_path: Path, document: Any, name: str = "d.json") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def _doc(*items: dict[str, Any]) -> dict[str, Any]:
    return {"party": "DPRK", "date": "2023-01-01", "items": list(items)}


def test_the_shipped_schema_is_valid() -> None:
    Draft202012Validator.check_schema(declaration_schema())


def test_the_schema_takes_its_number_ranges_from_the_limits() -> None:
    item = declaration_schema()["$defs"]["item"]["properties"]
    assert (item["uncertainty_m"]["minimum"], item["uncertainty_m"]["maximum"]) == (
        limits.UNCERTAINTY_M.low,
        limits.UNCERTAINTY_M.high,
    )
    assert (item["lat"]["minimum"], item["lon"]["maximum"]) == (-90, 180)


def test_json_declaration_with_every_field_and_extras(tmp_path: Path) -> None:
    item = {
        **ITEM,
        "lat": 39.6,
        "lon": 125.5,
        "uncertainty_m": 300,
        "status_date": "2022-06-30",
        "inventory": "6 launchers\n12 missiles",
        "operator": "Strategic Force",
    }
    parsed = read_declaration(_write(tmp_path, {**_doc(item, {**ITEM, "name": "신오리"}), "x": 1}))
    assert (parsed.party, parsed.declared_on, parsed.country) == ("DPRK", date(2023, 1, 1), None)
    first = parsed.items[0]
    assert (first.index, first.lat, first.lon, first.uncertainty_m) == (0, 39.6, 125.5, 300)
    assert first.status_date == date(2022, 6, 30)
    assert first.inventory == "6 launchers\n12 missiles"
    assert first.extra == {"operator": "Strategic Force"}
    assert parsed.items[1].name == "신오리" and parsed.items[1].status_date is None
    assert len(parsed.sha256) == 64 and parsed.source_name == "d.json"


def test_an_item_may_have_coordinates_instead_of_a_name(tmp_path: Path) -> None:
    item = {"lat": 39.6, "lon": 125.5, "category": "other", "status": "closed"}
    assert read_declaration(_write(tmp_path, _doc(item))).items[0].name is None


@pytest.mark.parametrize(
    ("document", "where", "words"),
    [
        ("{not json", "d.json", "not valid JSON"),
        ('{"party": "A", "party": "B", "date": "2023-01-01", "items": []}', "d.json", "twice"),
        ('{"party": "A", "date": "2023-01-01", "items": [], "n": NaN}', "d.json", "NaN"),
        ([1, 2], "[document]", "is not an object"),
        ({"date": "2023-01-01", "items": []}, "[party]", "is required"),
        ({**_doc(), "date": "1 Jan 2023"}, "[date]", "not a date"),
        ({**_doc(), "date": "2023-02-30"}, "[date]", "not a calendar date"),
        ({**_doc(), "country": "Korea"}, "[country]", "ISO 3166"),
        (_doc(ITEM, {**ITEM, "status": "mothballed"}), "[items[1].status]", "operational"),
        (_doc({**ITEM, "lat": "39.6", "lon": 125.5}), "[items[0].lat]", "is not a number"),
        (_doc({**ITEM, "lat": 39.6}), "[items[0].lon]", "required when lat is given"),
        (_doc({**ITEM, "lat": 95.0, "lon": 125.5}), "[items[0].lat]", "out of range"),
        (_doc({**ITEM, "status_date": "2023-01-02"}), "[items[0].status_date]", "after"),
        (_doc({"category": "x", "status": "closed"}), "[items[0]]", "needs a name, or lat"),
        (_doc({k: v for k, v in ITEM.items() if k != "category"}), "[items[0].category]", "req"),
        (_doc({**ITEM, "name": "=HYPERLINK(1)"}), "[items[0].name]", "formula"),
        (_doc({**ITEM, "name": "Sino\u202eir"}), "[items[0].name]", "U+202E"),
        (_doc({**ITEM, "name": "   "}), "[items[0].name]", "blank"),
        (_doc({**ITEM, "lat": 1, "lon": 1, "uncertainty_m": 100_001}), "[items[0].unc", "range"),
        (_doc({**ITEM, "uncertainty_m": -1}), "[items[0].uncertainty_m]", "out of range"),
        (_doc({**ITEM, "lat": 1, "lon": 180.5}), "[items[0].lon]", "out of range"),
        (_doc({**ITEM, "status_date": "1066-10-14"}), "[items[0].status_date]", "1900 and"),
        ({**_doc(ITEM), "date": "9999-12-31"}, "[date]", "between 1900 and 2100"),
        (
            '{"party": "A", "date": "2023-01-01", "items": [], "n": [1e400]}',
            "[n.0]",
            "inf is not a finite number",
        ),
        (
            '{"party": "A", "date": "2023-01-01", "items": [], "n": -' + "9" * 4400 + "}",
            "[n]",
            "a number of 4400 digits is too large",
        ),
        ('{"party": "A\\udfff", "date": "2023-01-01", "items": []}', "[party]", "surrogate"),
        ('{"party": "A", "date": "2023-01-01", "items": [], "\\ud800": 1}', "[document]", "key"),
    ],
)
def test_bad_json_gives_one_line_naming_file_item_and_field(
    tmp_path: Path, document: Any, where: str, words: str
) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(InputError) as caught:
        read_declaration(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path)), message
    assert where in message and words in message, message


CSV = (
    "party,date,name,lat,lon,category,status,status_date,inventory,note\n"
    "DPRK,2023-01-01,Sino-ri,39.6,125.5,missile-operating-base,dismantled,2022-05-01,,a\n"
    'DPRK,2023-01-01,Kal-gol,,,missile-operating-base,operational,,"2 TELs, 4 missiles",\n'
)


def test_csv_declaration_reads_like_json(tmp_path: Path) -> None:
    parsed = read_declaration(_write(tmp_path, CSV, "d.csv"))
    assert parsed.party == "DPRK" and len(parsed.items) == 2
    first, second = parsed.items
    assert (first.lat, first.lon, first.status, first.extra) == (
        39.6,
        125.5,
        "dismantled",
        {"note": "a"},
    )
    assert (second.lat, second.inventory) == (None, "2 TELs, 4 missiles")
    assert parsed.document["items"][1] == {
        "name": "Kal-gol",
        "category": "missile-operating-base",
        "status": "operational",
        "inventory": "2 TELs, 4 missiles",
    }


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("name,status\nA,closed\n", "d.csv", "missing column(s) party, date"),
        (
            CSV + "DPRK,2023-01-01,X,abc,1,other,closed,,,\n",
            "[items[2], row 4.lat]",
            "not a number",
        ),
        (CSV + "ROK,2023-01-01,X,,,other,closed,,,\n", "[items[2], row 4.party]", "differs"),
        (CSV + "DPRK,2023-01-01,X,,,other,gone,,,\n", "[items[2], row 4.status]", "unknown value"),
        (CSV + "DPRK,2023-01-01,@SUM(A1),,,other,closed,,,\n", "[items[2], row 4.name]", "formula"),
        (CSV + "DPRK,2023-01-01,X,,,other,closed,,,,extra\n", "[items[2], row 4]", "cells"),
        ("party,date,name\n", "d.csv", "no item rows"),
        (CSV + "DPRK,2023-01-01,X,nan,1,other,closed,,,\n", "[items[2], row 4.lat]", "finite"),
        (CSV + "DPRK,2023-01-01,X,1,1e400,other,closed,,,\n", "[items[2], row 4.lon]", "finite"),
    ],
)
def test_bad_csv_names_the_row_and_field(tmp_path: Path, text: str, where: str, words: str) -> None:
    path = _write(tmp_path, text, "d.csv")
    with pytest.raises(InputError) as caught:
        read_declaration(path)
    message = str(caught.value)
    assert where in message and words in message, message
