"""Checking a batch archive offline: no database, no app context, nothing but the zip file and
(best) the organisation's verifier key obtained separately.

Every check runs, whatever an earlier one found, and each says what it checked:

1. the manifest's signature (manifest.sig, a C2SP signed note) by the verifier key, and that it
   signs this manifest.json (its SHA-256) for this organisation and batch;
2. every file listed in the manifest: present, its size and SHA-256 as listed; no file the
   manifest does not list;
3. every chain in data/events.jsonl link by link (`examsys.audit.verify.check_rows`, with the
   seals of the batch's chain), and each chain's size and head as the manifest records them;
4. the answer history (data/answer_history.csv) against the saves' links (`check_history`);
5. the Merkle root recomputed over the events in file order against the manifest's (and the
   signed note's).

`check(path, verifier)` returns a Result; its first problem is what the CLI prints first."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from examsys.audit import chain, merkle, signing
from examsys.audit.archive import datafiles, notes
from examsys.audit.links import add_seals
from examsys.audit.verify import EventRow, canonical_of, check_history, check_rows

CHUNK = 1 << 20


@dataclass
class Result:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, what: str) -> None:
        self.problems.append(what)


def check(path: Path, verifier: str | None = None) -> Result:
    """Check the archive at `path` (see the module's docstring); `verifier`: the organisation's
    verifier key string, else the archive's own pubkey.txt (which proves integrity, not origin)."""
    result = Result()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        result.fail(f"{path} 不是可读取的 zip 文件")
        return result
    with zf:
        names = set(zf.namelist())
        if notes.MANIFEST not in names:
            result.fail("档案中缺少 manifest.json（清单）")
            return result
        body = zf.read(notes.MANIFEST)
        try:
            manifest = orjson.loads(body)
            files = {f["path"]: f for f in manifest["files"]}
            record = manifest["record"]
        except (ValueError, KeyError, TypeError):
            result.fail("manifest.json 不是批次档案的清单")
            return result
        _signature(zf, names, body, manifest, verifier, result)
        _files(zf, names, files, result)
        _events(zf, names, record, result)
    return result


def _signature(zf, names, body: bytes, manifest: dict, verifier: str | None, result: Result) -> None:
    org = (manifest.get("organisation") or {}).get("code", "")
    batch = (manifest.get("batch") or {}).get("id")
    if verifier is None:
        if notes.PUBKEY not in names:
            result.fail("未提供公钥（--pubkey），档案中也没有 pubkey.txt，无法校验清单签名")
            return
        verifier = zf.read(notes.PUBKEY).decode("utf-8", "replace").strip()
        result.warnings.append("未提供 --pubkey：用的是档案自带的公钥，只能证明档案未被改动，不能证明它出自该机构；"
                               "请用另行取得的机构公钥再校验一次")
    if notes.SIGNATURE not in names:
        result.fail("档案中缺少 manifest.sig（清单签名）")
        return
    try:
        text = signing.open_note(zf.read(notes.SIGNATURE).decode("utf-8"), verifier)
        signed = notes.parse_note_text(text)
    except (signing.NoteError, UnicodeDecodeError, ValueError) as exc:
        result.fail(f"清单签名无效：{exc}")
        return
    sha = hashlib.sha256(body).hexdigest()
    if signed["manifest_sha256"] != sha:
        result.fail("清单签名无效：签名针对的不是这份 manifest.json（清单被改动）")
    elif signed["org"] != org or signed["batch"] != str(batch):
        result.fail(f"清单签名无效：签名的是 {signed['org']} 批次 {signed['batch']}，清单写的是 {org} 批次 {batch}")
    elif signed["root"] != manifest["record"].get("merkle_root"):
        result.fail("清单签名中的 Merkle 根与清单不符")
    else:
        result.checked.append(f"清单签名：有效（{signing.parse_verifier_key(verifier)[0]}，清单 SHA-256 {sha[:16]}…）")


def _files(zf, names: set[str], files: dict[str, dict], result: Result) -> None:
    problems = len(result.problems)
    for name, entry in sorted(files.items()):
        if name not in names:
            result.fail(f"缺少文件 {name}（清单中列出，档案中没有）")
            continue
        digest, size = hashlib.sha256(), 0
        with zf.open(name) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if size != entry.get("size") or digest.hexdigest() != entry.get("sha256"):
            result.fail(f"文件 {name} 的 SHA-256 与清单不符（文件被改动）")
    extra = sorted(names - set(files) - {notes.MANIFEST, notes.SIGNATURE})
    for name in extra:
        result.fail(f"档案中有清单未列出的文件 {name}")
    if len(result.problems) == problems:
        result.checked.append(f"文件：{len(files)} 个，大小和 SHA-256 与清单全部一致")


def _rows(zf) -> list[EventRow]:
    with zf.open(datafiles.EVENTS) as fh:
        return list(datafiles.read_events(fh))


def _events(zf, names: set[str], record: dict, result: Result) -> None:
    if datafiles.EVENTS not in names:
        result.fail(f"档案中缺少 {datafiles.EVENTS}，无法校验过程记录")
        return
    try:
        rows = _rows(zf)
    except ValueError as exc:
        result.fail(str(exc))
        return
    seals: dict[str, set[tuple[int, str]]] = {}
    for row in rows:
        if row.action == "attempt.sealed" and row.scope.startswith("batch/"):
            add_seals(seals, row.data)
    report, saves = check_rows(rows, seals=seals)
    before = len(result.problems)
    for failure in report.failures:
        where = f"第 {failure.seq} 条" if failure.seq is not None else ""
        result.fail(f"过程记录：链 {failure.scope} {where}：{failure.what}")
    stated = record.get("chains") or {}
    found = {s: {"size": n, "head": h} for s, (n, h) in report.heads.items()}
    for scope in sorted(set(stated) | set(found)):
        if stated.get(scope) != found.get(scope):
            have = found.get(scope, {"size": 0})["size"]
            result.fail(f"过程记录：链 {scope} 在 events.jsonl 中有 {have} 条，末条与清单记录的"
                        f"（{(stated.get(scope) or {}).get('size', 0)} 条）不符")
    if len(result.problems) == before:
        result.checked.append(f"过程记录：{report.scopes} 条链、{report.events} 个事件逐条校验通过，"
                              "各链长度和末条哈希与清单一致")
    attempts = {ident for kind, ident in map(chain.parse_scope, found) if kind == "attempt"}
    before = len(result.problems)
    if datafiles.HISTORY not in names:
        result.fail(f"档案中缺少 {datafiles.HISTORY}")
    else:
        try:
            history = list(datafiles.read_history(zf.read(datafiles.HISTORY).decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            result.fail(str(exc))
        else:
            failures = len(report.failures)
            check_history(history, saves, report, attempts)
            for failure in report.failures[failures:]:
                result.fail(f"作答历史：{failure.scope}：{failure.what}")
            if len(result.problems) == before:
                result.checked.append(f"作答历史：{report.history_rows} 条与链中的保存记录一致")
    root = merkle.root([canonical_of(row) for row in rows]).hex()
    if root != record.get("merkle_root"):
        result.fail(f"Merkle 根不符：由 events.jsonl 重算为 {root}，清单记录为 {record.get('merkle_root')}")
    else:
        result.checked.append(f"Merkle 根：一致（{root}，{len(rows)} 个叶子）")


__all__ = ["Result", "check"]
