"""The names and the signed note of a batch archive, shared by the build and the offline check.

The manifest (manifest.json) lists every other file with its SHA-256 and size; manifest.sig is a
C2SP signed note (examsys.audit.signing) by the organisation's key whose text is

    examsys-archive/<ORG CODE>/<batch id>
    <SHA-256 hex of manifest.json>
    merkle <Merkle root hex of the batch's events>
    events <number of events>

so the signature covers the manifest, and through it every file, the chain heads and the root.
pubkey.txt carries the organisation's verifier key for convenience only: whoever receives an
archive checks it with a key obtained separately (`examsys archive verify --pubkey`)."""

from __future__ import annotations

FORMAT = "examsys-batch-archive/1"
ORIGIN = "examsys-archive"
MANIFEST, SIGNATURE, PUBKEY = "manifest.json", "manifest.sig", "pubkey.txt"


def note_text(org_code: str, batch_id: int, manifest_sha256: str, root: str, events: int) -> str:
    return f"{ORIGIN}/{org_code}/{batch_id}\n{manifest_sha256}\nmerkle {root}\nevents {events}\n"


def parse_note_text(text: str) -> dict:
    """{org, batch, manifest_sha256, root, events} of a note's text; ValueError when malformed."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) != 4 or not lines[0].startswith(ORIGIN + "/"):
        raise ValueError("签名内容不是批次档案清单的签名")
    _origin, org, batch = lines[0].split("/", 2)
    if not lines[2].startswith("merkle ") or not lines[3].startswith("events "):
        raise ValueError("签名内容格式不正确")
    return {"org": org, "batch": batch, "manifest_sha256": lines[1], "root": lines[2][len("merkle "):],
            "events": int(lines[3][len("events "):])}


__all__ = ["FORMAT", "MANIFEST", "ORIGIN", "PUBKEY", "SIGNATURE", "note_text", "parse_note_text"]
