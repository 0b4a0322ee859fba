"""Evidence packages: export a site's slice, check it offline, catch tampering and bad zips."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sitewatch.errors import InputError, NotFoundError, SitewatchError
from sitewatch.evidence import keys, ledger
from sitewatch.evidence.package import export_package
from sitewatch.evidence.package_check import verify_package
from sitewatch.workspace import Workspace
from tests.evidence.forgery import (
    drop_entry,
    read_members,
    resign_manifest,
    rewrite_entry,
    write_members,
)


@pytest.fixture
def exported(workspace: Workspace, tmp_path: Path) -> Path:
    """A package for site s1: a scene (external file), two runs (workspace files), an
    assessment by a named analyst; entries about site s2 are left out."""
    scene = tmp_path / "imagery" / "scene.tif"
    scene.parent.mkdir()
    scene.write_bytes(b"scene bytes " * 100)
    product = workspace.products / "runs" / "r1" / "mask.tif"
    product.parent.mkdir(parents=True)
    product.write_bytes(b"mask " * 50)
    keys.create_key(workspace, "alice")
    with workspace.session() as session:
        ledger.record(session, kind="scene.ingest", payload={}, files=[scene], subject_id="sc1")
        ledger.record(session, kind="site.add", payload={"id": "s2"}, site_id="s2")
        ledger.record(session, kind="site.add", payload={"id": "s1"}, site_id="s1")
        ledger.record(
            session,
            kind="detection.run",
            payload={"before_scene_id": "sc1", "after_scene_id": "sc9"},
            files=[product],
            site_id="s1",
        )
        ledger.record(session, kind="assessment", payload={}, site_id="s1", author="alice")
        ledger.record(session, kind="site.edit", payload={"id": "s2"}, site_id="s2")
    summary = export_package(workspace, "s1", tmp_path / "out" / "s1.zip")
    assert (summary.entries, summary.files, summary.head_seq) == (4, 2, 6)
    assert set(summary.analysts) == {"workspace", "alice"}
    return summary.path


def test_package_layout_and_offline_check(exported: Path) -> None:
    with zipfile.ZipFile(exported) as package:
        names = set(package.namelist())
        ledger_lines = package.read("ledger.jsonl").decode().splitlines()
    assert {"README.md", "manifest.json", "ledger.jsonl", "chain.jsonl"} <= names
    assert {"keys/alice.pem", "keys/workspace.pem", "files/products/runs/r1/mask.tif"} <= names
    assert any(name.startswith("files/external/") for name in names)
    assert len(ledger_lines) == 4
    report = verify_package(exported)
    assert report.ok, report.problems
    assert (report.site_id, report.entries, report.files_checked) == ("s1", 4, 2)
    assert len(report.analysts["alice"]) == 64


def test_verifies_on_a_clean_machine_without_the_workspace(
    exported: Path, workspace: Workspace, tmp_path: Path
) -> None:
    shutil.rmtree(workspace.root)
    clean = tmp_path / "elsewhere"
    clean.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
    code = (
        "import sys; from sitewatch.evidence.package_check import verify_package; "
        "r = verify_package(sys.argv[1]); print(r.ok, r.entries); sys.exit(0 if r.ok else 1)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(exported)],
        cwd=clean,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "4"]


def _readme_script(package: Path, folder: Path) -> Path:
    with zipfile.ZipFile(package) as opened:
        readme = opened.read("README.md").decode()
    (code,) = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert len(code.strip().splitlines()) <= 20
    script = folder / "check.py"
    script.write_text(code, encoding="utf-8")
    return script


def _run_script(script: Path, package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(package)],
        cwd=script.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def _rewrite(package: Path, target: Path, member: str, change: bytes | None) -> Path:
    """A copy of ``package`` with ``member`` replaced (or removed when ``change`` is None)."""
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            if info.filename != member:
                copy.writestr(info, source.read(info))
            elif change is not None:
                copy.writestr(info, change)
    return target


def test_the_readme_script_checks_the_package(exported: Path, tmp_path: Path) -> None:
    script = _readme_script(exported, tmp_path)
    good = _run_script(script, exported)
    assert good.returncode == 0, good.stderr
    assert "check out" in good.stdout
    with zipfile.ZipFile(exported) as package:
        mask = bytearray(package.read("files/products/runs/r1/mask.tif"))
    mask[0] ^= 1
    bad = _rewrite(exported, tmp_path / "bad.zip", "files/products/runs/r1/mask.tif", mask)
    failed = _run_script(script, bad)
    assert failed.returncode != 0 and "changed" in failed.stderr


def test_tampered_packages_name_the_entry(exported: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported) as package:
        lines = package.read("ledger.jsonl").decode()
        mask = bytearray(package.read("files/products/runs/r1/mask.tif"))
    mask[3] ^= 1
    cases = {
        "file": ("files/products/runs/r1/mask.tif", bytes(mask), 4, "does not match its recorded"),
        "payload": (
            "ledger.jsonl",
            lines.replace('"after_scene_id\\":\\"sc9', '"after_scene_id\\":\\"sc8').encode(),
            4,
            "do not match its hash",
        ),
        "missing file": ("files/products/runs/r1/mask.tif", None, 4, "missing from the package"),
    }
    for name, (member, change, seq, words) in cases.items():
        report = verify_package(_rewrite(exported, tmp_path / f"{name}.zip", member, change))
        assert not report.ok, name
        assert report.problems[0].seq == seq and words in report.problems[0].message, name


def test_a_key_swapped_in_the_package_is_caught(
    exported: Path, workspace: Workspace, tmp_path: Path
) -> None:
    mallory = keys.create_key(workspace, "mallory")
    pem = keys.public_key_pem(mallory)
    report = verify_package(_rewrite(exported, tmp_path / "k.zip", "keys/alice.pem", pem))
    assert [(p.seq, p.message) for p in report.problems] == [
        (5, "signature is not 'alice''s signature of the entry hash"),
        (None, "member keys/alice.pem is not the one the manifest lists (SHA-256 differs)"),
    ]


def test_a_dropped_entry_breaks_the_chain_skeleton(exported: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported) as package:
        chain = package.read("chain.jsonl").decode().splitlines()
    del chain[1]
    report = verify_package(
        _rewrite(exported, tmp_path / "c.zip", "chain.jsonl", ("\n".join(chain) + "\n").encode())
    )
    assert [(p.seq, p.message) for p in report.problems] == [
        (3, "does not follow the entry before it in chain.jsonl"),
        (None, "member chain.jsonl is not the one the manifest lists (SHA-256 differs)"),
    ]


def test_hostile_zips_are_one_line_errors(tmp_path: Path) -> None:
    traversal = tmp_path / "traversal.zip"
    with zipfile.ZipFile(traversal, "w") as package:
        package.writestr("../../etc/evil", b"x")
    with pytest.raises(InputError, match=re.escape("unsafe member name '../../etc/evil'")):
        verify_package(traversal)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("ledger.jsonl", b"\0" * (64 << 20))
    with pytest.raises(InputError, match="zip bomb"):
        verify_package(bomb)
    not_zip = tmp_path / "not.zip"
    not_zip.write_text("hello")
    with pytest.raises(InputError, match="not a readable evidence package"):
        verify_package(not_zip)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(InputError, match=r"manifest\.json is missing"):
        verify_package(empty)


def test_export_of_an_unknown_site_or_a_changed_file(
    exported: Path, workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="'nowhere'"):
        export_package(workspace, "nowhere", tmp_path / "x.zip")
    (workspace.products / "runs" / "r1" / "mask.tif").write_bytes(b"other")
    with pytest.raises(SitewatchError, match=r"entry 4: file products/runs/r1/mask\.tif"):
        export_package(workspace, "s1", tmp_path / "y.zip")
    assert not (tmp_path / "y.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _fingerprints(package: Path) -> list[str]:
    """The genuine package's key fingerprints, as their owners would publish them."""
    report = verify_package(package)
    assert report.ok, report.problems
    return sorted({*report.analysts.values(), report.exporter["fingerprint"]})  # type: ignore[index]


def test_a_name_that_appears_twice_is_refused(exported: Path, tmp_path: Path) -> None:
    """A zip reader may show either ledger.jsonl; here the second one hides entry 5."""
    members = read_members(exported)
    hidden = dict(members)
    drop_entry(hidden, 5)
    with pytest.warns(UserWarning, match="Duplicate name: 'ledger.jsonl'"):
        forged = write_members(
            tmp_path / "twice.zip", members, [("ledger.jsonl", hidden["ledger.jsonl"])]
        )
    report = verify_package(forged)
    assert not report.ok
    assert (
        str(report.problems[0]) == "member ledger.jsonl appears 2 times: a zip reader may show any"
    )


def test_a_removed_entry_is_named(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    drop_entry(members, 5)
    report = verify_package(write_members(tmp_path / "dropped.zip", members))
    assert not report.ok
    assert str(report.problems[0]) == "entry 5: is in the manifest but missing from ledger.jsonl"
    assert "ledger.jsonl holds 3 entries, the manifest lists 4" in [
        p.message for p in report.problems
    ]


def test_a_member_not_in_the_manifest_is_refused(exported: Path, tmp_path: Path) -> None:
    members = read_members(exported)
    members["files/products/runs/r1/extra.tif"] = b"planted"
    report = verify_package(write_members(tmp_path / "extra.zip", members))
    assert [str(p) for p in report.problems] == [
        "member files/products/runs/r1/extra.tif is not listed in the manifest"
    ]


def test_an_entry_resigned_without_the_manifest_is_caught(
    exported: Path, workspace: Workspace, tmp_path: Path
) -> None:
    keys.create_key(workspace, "mallory")
    mallory = keys.load_private_key(workspace.root / "keys" / "mallory.pem", "mallory")
    members = read_members(exported)
    rewrite_entry(members, 5, '{"status":"dismantled"}', mallory)
    report = verify_package(write_members(tmp_path / "resigned.zip", members))
    assert not report.ok
    assert "member ledger.jsonl is not the one the manifest lists (SHA-256 differs)" in [
        str(p) for p in report.problems
    ]


def test_only_pinned_keys_catch_a_package_resigned_throughout(
    exported: Path, workspace: Workspace, tmp_path: Path
) -> None:
    """Entry, author's key, chain and manifest all re-signed by one forger: consistent in
    itself, so only the fingerprints the analysts published tell it apart."""
    genuine = _fingerprints(exported)
    pinned = verify_package(exported, trusted=genuine)
    assert pinned.ok and pinned.keys_pinned and pinned.untrusted_keys == {}

    keys.create_key(workspace, "mallory")
    mallory = keys.load_private_key(workspace.root / "keys" / "mallory.pem", "mallory")
    members = read_members(exported)
    rewrite_entry(members, 5, '{"status":"dismantled"}', mallory)
    resign_manifest(members, mallory, "alice")
    forged = write_members(tmp_path / "forged.zip", members)

    unpinned = verify_package(forged)
    assert unpinned.ok and not unpinned.keys_pinned
    assert set(unpinned.untrusted_keys) == {"alice", "workspace"}  # nothing pinned at all
    report = verify_package(forged, trusted=genuine)
    mallory_print = keys.fingerprint(mallory.public_key())
    assert [str(p) for p in report.problems] == [
        f"entry 5: is signed with 'alice''s key {mallory_print}, which is not a trusted key "
        "(--trust)",
        f"manifest.json is signed with exporter 'alice''s key {mallory_print}, which is "
        "not a trusted key (--trust)",
    ]
    with pytest.raises(InputError, match=r"--trust: 'abc' is not a key fingerprint"):
        verify_package(exported, trusted=["abc"])


def test_a_line_that_is_not_an_entry_is_a_problem_not_a_crash(
    exported: Path, tmp_path: Path
) -> None:
    members = read_members(exported)
    lines = members["ledger.jsonl"].decode().splitlines(keepends=True)
    lines[1] = '{"seq": "two"}\n'
    members["ledger.jsonl"] = "".join(lines).encode()
    report = verify_package(write_members(tmp_path / "line.zip", members))
    assert not report.ok
    assert any(
        str(problem).startswith("ledger.jsonl line 2: not a ledger entry (lacks kind")
        for problem in report.problems
    ), report.problems
