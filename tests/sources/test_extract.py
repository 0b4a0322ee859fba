"""Reading source documents: metadata from HTML, PDF text, and every hostile input refused."""

from __future__ import annotations

import pytest

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.sources.extract import HTML, TEXT, extract_document

PAGE = (
    "<!doctype html><html><head><title>Sino-ri found</title>"
    "<meta name='author' content='Jane Doe'><meta property='og:site_name' content='Example News'>"
    "<meta property='article:published_time' content='2019-01-21'></head><body>"
    "<nav>Home | World | Sport</nav><article><h1>Secret base Sino-ri found</h1>"
    + "<p>Researchers say the Sino-ri missile operating base houses Nodong missiles.</p>" * 5
    + "</article><footer>Copyright Example News</footer></body></html>"
)


def test_html_main_text_and_metadata() -> None:
    extracted = extract_document(PAGE.encode(), "page.html")
    assert extracted.media_type == HTML and extracted.extractor.startswith("trafilatura")
    assert "Sino-ri missile operating base" in extracted.text
    assert "Home | World" not in extracted.text
    assert extracted.publisher == "Example News"
    assert extracted.published_on == "2019-01-21"
    assert extracted.authors == ["Jane Doe"]


def test_declared_korean_encoding_is_read() -> None:
    page = "<html><head><meta charset='euc-kr'></head><body><p>신오리 미사일 기지</p></body></html>"
    extracted = extract_document(page.encode("euc-kr"), "ko.html")
    assert "신오리" in extracted.text


def test_plain_text_title_skips_boilerplate_and_dateline_is_the_date() -> None:
    text = (
        "Join our Telegram channel now!\n\nBase found\n\n"
        "July 1, 2018 caption\nNovember 13, 2018\n\nBody."
    )
    extracted = extract_document(text.encode(), "a.txt")
    assert extracted.media_type == TEXT
    assert extracted.title == "Base found"
    assert extracted.published_on == "2018-11-13"


def _pdf_with_text(text: str) -> bytes:
    """A one-page PDF with a text layer, written by hand (no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_pdf_text_layer() -> None:
    extracted = extract_document(_pdf_with_text("Sakkanmol base is active"), "r.pdf")
    assert "Sakkanmol base is active" in extracted.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"   \n\t ", "empty file"),
        (bytes(range(256)) * 40, "binary data"),
        (b"\x01\x02\x03\x04\x05\x06" * 500 + b"abc", "binary data"),
        (b"caf\xe9 au lait, no charset given", "unknown encoding"),
        (
            b"<html><head><meta charset='x-klingon'></head><body>hi</body></html>",
            "unknown encoding",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<html><body>&lol2;</body></html>",
            "entity bomb",
        ),
        (
            b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>",
            "nesting bomb",
        ),
        (b"%PDF-1.4\n garbage that is no PDF", "not a readable PDF"),
    ],
)
def test_hostile_input_is_one_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        extract_document(data, "evil.bin")
    assert str(caught.value).startswith("evil.bin: ")
    assert "\n" not in str(caught.value)


def test_a_file_past_the_size_limit_is_refused_unparsed() -> None:
    with pytest.raises(InputError, match="larger than"):
        extract_document(b"a" * (limits.SOURCE_BYTES + 1), "big.txt")
