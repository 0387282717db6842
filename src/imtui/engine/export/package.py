"""The evidence package: clips, reports, ``manifest.json`` (every file with its SHA-256, size and
what it shows; who exported it, when, in which time zone, with which tool) and ``SHA256SUMS`` (the
same hashes, plus the manifest's, in the format ``sha256sum -c`` reads, so a recipient can check the
package without imtui).  ``verify`` re-hashes a package folder or ZIP and names every file that is
missing, extra or altered.

Not a signature: someone who alters a file can rewrite both lists.  The hashes prove that a copy is
the package as exported, once the recipient has the manifest's hash from a trusted channel (the
activity log keeps it).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
README = "README.txt"
FORMAT = "imtui-evidence-package/1"
CHUNK = 1 << 20


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as f:
        return sha256_of(f)


def readme_text(manifest: dict[str, Any]) -> str:
    return (
        "Evidence package exported by {tool} {version}\n"
        "Incident project(s): {ids}\nExported by {user} at {at} (UTC); local times in {zone}.\n\n"
        "Every file is listed in manifest.json with its SHA-256 and size, and in SHA256SUMS with\n"
        "manifest.json itself. To check the package with standard tools, in this folder run:\n\n"
        "    sha256sum -c SHA256SUMS\n\n"
        "or, with imtui: imtui verify <this folder or zip>.\n"
        "The SHA-256 of manifest.json is recorded in the incident project's activity log.\n"
    ).format(tool=manifest["tool"]["name"], version=manifest["tool"]["version"],
             ids=", ".join(str(i) for i in manifest["incident_ids"]) or "-", user=manifest["exported_by"],
             at=manifest["exported_at"], zone=f"{manifest['time_zone']} (UTC{manifest['utc_offset']})")


def finish(folder: Path, manifest: dict[str, Any]) -> str:
    """Write README.txt, manifest.json (with every file's hash) and SHA256SUMS into ``folder``.
    ``manifest["files"]`` already describes the content files; returns the manifest's SHA-256."""
    (folder / README).write_text(readme_text(manifest), encoding="utf-8")
    size = (folder / README).stat().st_size
    digest, _n = hash_file(folder / README)
    manifest["files"].append({"path": README, "kind": "readme", "sha256": digest, "size": size})
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest_hash, _n = hash_file(folder / MANIFEST)
    lines = [f"{f['sha256']}  {f['path']}" for f in manifest["files"]] + [f"{manifest_hash}  {MANIFEST}"]
    (folder / SUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest_hash


def zip_folder(folder: Path, target: Path) -> None:
    """Store (no compression: the clips are already compressed) every file under ``folder``."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            z.write(path, path.relative_to(folder).as_posix())


# -- verification ---------------------------------------------------------------------------------
@dataclass
class Verification:
    files: int = 0  # content files checked
    problems: list[tuple[str, str]] = field(default_factory=list)  # (missing|extra|altered|invalid, path)
    manifest_sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> Iterator[str]:
        for p in self.root.rglob("*"):
            if p.is_file():
                yield p.relative_to(self.root).as_posix()

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")


class _Zip:
    def __init__(self, z: zipfile.ZipFile) -> None:
        self.z = z
        names = [n for n in z.namelist() if not n.endswith("/")]
        # A package zipped by hand usually has one top folder: look inside it.
        tops = {n.split("/", 1)[0] for n in names}
        self.prefix = next(iter(tops)) + "/" if len(tops) == 1 and all("/" in n for n in names) else ""
        self._names = [n[len(self.prefix):] for n in names]

    def names(self) -> Iterator[str]:
        yield from self._names

    def open(self, name: str) -> IO[bytes]:
        return self.z.open(self.prefix + name)


def _safe_member(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and bool(name)


def verify(path: Path) -> Verification:
    """Check a package folder or ZIP against its manifest and SHA256SUMS."""
    if path.is_dir():
        return _verify(_Folder(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return _verify(_Zip(z))
    result = Verification()
    result.problems.append(("invalid", f"{path.name}: not a package folder or ZIP"))
    return result


def _verify(src: _Folder | _Zip) -> Verification:
    result = Verification()
    present = set(src.names())
    if MANIFEST not in present:
        result.problems.append(("missing", MANIFEST))
        return result
    with src.open(MANIFEST) as f:
        raw = f.read()
    result.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw)
        listed = {str(x["path"]): x for x in manifest["files"]}
    except (ValueError, KeyError, TypeError):
        result.problems.append(("invalid", f"{MANIFEST}: not an imtui manifest"))
        return result
    sums = _read_sums(src, present)
    if sums is None:
        result.problems.append(("missing", SUMS))
    else:
        if sums.get(MANIFEST) != result.manifest_sha256:
            result.problems.append(("altered", MANIFEST))
        for name, digest in sums.items():
            if name != MANIFEST and name in listed and listed[name].get("sha256") != digest:
                result.problems.append(("altered", f"{SUMS} ({name})"))
    for name, entry in sorted(listed.items()):
        if not _safe_member(name) or name not in present:
            result.problems.append(("missing", name))
            continue
        with src.open(name) as f:
            digest, size = sha256_of(f)
        result.files += 1
        if digest != entry.get("sha256") or size != entry.get("size"):
            result.problems.append(("altered", name))
    for name in sorted(present - set(listed) - {MANIFEST, SUMS}):
        result.problems.append(("extra", name))
    return result


def _read_sums(src: _Folder | _Zip, present: Iterable[str]) -> dict[str, str] | None:
    if SUMS not in set(present):
        return None
    with src.open(SUMS) as f:
        text = f.read().decode("utf-8", "replace")
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if sep:
            sums[name.lstrip("*")] = digest.strip()
    return sums
