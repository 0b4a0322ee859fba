"""The README of an evidence package: how to check it, and what a successful check proves.

It includes a stand-alone Python check (only ``cryptography`` needed) so that a reader who
does not trust sitewatch can verify the package with code short enough to read; the tests
run that very script.
"""

from __future__ import annotations

CHECK_SCRIPT = """\
import hashlib, json, sys, zipfile
from cryptography.hazmat.primitives.serialization import load_pem_public_key

HASHED = ("seq", "kind", "site_id", "subject_id", "payload", "files",
          "author", "created_at", "prev_hash")
package = zipfile.ZipFile(sys.argv[1])
for line in package.read("ledger.jsonl").decode("utf-8").splitlines():
    entry = json.loads(line)
    body = json.dumps({k: entry[k] for k in HASHED}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    assert digest == entry["entry_hash"], f"entry {entry['seq']}: hash mismatch"
    key = load_pem_public_key(package.read(f"keys/{entry['author']}.pem"))
    key.verify(bytes.fromhex(entry["signature"]), bytes.fromhex(digest))  # raises if forged
    for file in entry["files"]:
        path = file["path"]
        member = "files/" + ("external" + path if path.startswith("/") else path)
        data_hash = hashlib.sha256(package.read(member)).hexdigest()
        assert data_hash == file["sha256"], f"entry {entry['seq']}: {path} changed"
print("all entries, signatures and files check out")
"""


def readme(
    site_id: str, fingerprints: dict[str, str], head_seq: int, head_hash: str, exporter: str
) -> str:
    """The package's README.md."""
    keys = "\n".join(f"- `{name}`: `{value}`" for name, value in sorted(fingerprints.items()))
    return f"""# Evidence package: site `{site_id}`

Exported by sitewatch from a workspace whose ledger had {head_seq} entries; the newest
entry's hash (the chain head) was

    {head_hash}

## Check it with sitewatch (no workspace needed)

    sitewatch ledger verify-package THIS.zip --trust FINGERPRINT [--trust ...]

It checks that the package holds exactly the members `manifest.json` lists, each with
the SHA-256 listed, and that `manifest.sig` is the exporter's signature of the manifest;
recomputes every entry's hash, checks its Ed25519 signature with the author's public key
in `keys/`, checks every file in `files/` against the SHA-256 and size recorded in the
entry, and checks that `chain.jsonl` links each included entry to the chain head. Each
`--trust` names a key fingerprint you obtained from its owner; any key the package
relies on outside them fails the check. Without `--trust` the package is checked only
against the keys it carries itself, and the check says so.

## Check it with 20 lines of Python

With only the `cryptography` package installed, save this as `check.py` and run
`python check.py THIS.zip`:

```python
{CHECK_SCRIPT}```

## What is in it

- `ledger.jsonl`: one entry per line. An entry's hash is the SHA-256 of the canonical
  JSON (keys sorted, no spaces, UTF-8) of its fields `seq, kind, site_id, subject_id,
  payload, files, author, created_at, prev_hash`; `payload` is itself canonical JSON
  text. `signature` (hex) is the author's Ed25519 signature of the 32 hash bytes.
- `chain.jsonl`: `seq`, `entry_hash`, `prev_hash` of every entry from the first one
  included to the head, including entries about other subjects (their contents are not
  included).
- `keys/NAME.pem`: public keys of the authors and of the exporter (`{exporter}`). The
  authors' SHA-256 fingerprints (of the raw 32-byte key) are:

{keys}

- `manifest.json`: the site, the chain head, the included entries' seqs, every other
  member with its size and SHA-256, and the exporter; `manifest.sig` is the exporter's
  Ed25519 signature (hex) of manifest.json's exact bytes. The exporter's signature says
  "this is the package I exported"; it does not vouch for the entries, which their
  authors signed.

- `files/`: every file an entry references; `files/<path>` for files inside the
  workspace, `files/external/<absolute path>` for files kept outside it.

## What a successful check proves, and its limits

- Each included entry was signed by the holder of the private key whose public key is in
  `keys/`, and neither the entry nor any file it references changed since. A package can
  carry any key: someone who edits an entry can re-sign it, the manifest and the chain
  skeleton with new keys under the same names. Only fingerprints published elsewhere,
  passed as `--trust`, tie a signature to a person.
- Nothing was added or removed since the export: the signed manifest lists every member
  and every included entry.
- The included entries sit, in this order, in one hash chain ending at the head above.
  If the head hash was published earlier (a report, a message), matching it shows the
  ledger was not rewritten since.
- It cannot prove completeness: an entry about this site recorded under another site, or
  not recorded at all, cannot be noticed here. Entries not included are only present as
  hashes, so their contents cannot be checked from this package.
- The check script above checks entries, signatures and files only; `sitewatch ledger
  verify-package` also checks the chain.
"""
