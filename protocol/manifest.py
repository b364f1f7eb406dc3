"""The content-addressed manifest: every file of an HLS package with its SHA-256 and size.

Its canonical bytes hash to the video id (`ids`), so a manifest fetched from any edge can be
checked, and through it every file that edge sends.
"""
import hashlib
import json
import os
import re

from .errors import ManifestError
from .ids import canonical_json, content_id, video_id

MANIFEST_NAME = "manifest.json"
VERSION = 1
# Package files are flat and plain: no directories, no dot-files, nothing a path trick can use.
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
SHA256 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 20


def is_file_name(value):
    return isinstance(value, str) and FILE_NAME.fullmatch(value) is not None


def hash_file(path):
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def build_manifest(directory, **meta):
    """Hash every file in `directory` (except the manifest itself) into a manifest dict.

    `meta` carries the package description (duration, renditions, poster, ...).
    """
    files = {}
    for name in sorted(os.listdir(directory)):
        if name == MANIFEST_NAME:
            continue
        if not is_file_name(name) or not os.path.isfile(os.path.join(directory, name)):
            raise ManifestError(f"unexpected entry in package: {name!r}")
        files[name] = hash_file(os.path.join(directory, name))
    return {"version": VERSION, **meta, "files": files}


def write_manifest(directory, manifest):
    """Write the canonical bytes to `directory/manifest.json` and return the video id."""
    path = os.path.join(directory, MANIFEST_NAME)
    with open(path + ".tmp", "wb") as f:
        f.write(canonical_json(manifest))
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)
    return video_id(manifest)


def parse_manifest(data, expected_id=None):
    """Parse manifest bytes; with `expected_id`, refuse bytes that do not hash to it."""
    if expected_id is not None and content_id(data) != expected_id:
        raise ManifestError("manifest does not hash to the video id")
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"manifest is not JSON: {exc}") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(is_file_name(n) for n in files):
        raise ManifestError("manifest has no valid file list")
    return manifest


def package_size(data, manifest):
    """The bytes of a whole package: the manifest's own `data` and every file it lists. A
    ManifestError when an entry lacks a SHA-256 or a non-negative integer size."""
    total = len(data)
    for name, entry in manifest["files"].items():
        size = entry.get("size") if isinstance(entry, dict) else None
        if not (isinstance(size, int) and not isinstance(size, bool) and size >= 0
                and isinstance(entry.get("sha256"), str) and SHA256.fullmatch(entry["sha256"])):
            raise ManifestError(f"manifest entry {name!r} needs a sha256 and a non-negative integer size")
        total += size
    return total


def load_manifest(directory, expected_id=None):
    with open(os.path.join(directory, MANIFEST_NAME), "rb") as f:
        return parse_manifest(f.read(), expected_id)


def check_bytes(entry, data):
    """True when `data` is exactly the file a manifest entry describes."""
    return len(data) == entry["size"] and hashlib.sha256(data).hexdigest() == entry["sha256"]


def verify_dir(directory, expected_id=None):
    """Re-hash a package against its manifest; return a list of problems (empty when sound)."""
    try:
        manifest = load_manifest(directory, expected_id)
    except (OSError, ManifestError) as exc:
        return [f"{MANIFEST_NAME}: {exc}"]
    problems = []
    for name, entry in manifest["files"].items():
        path = os.path.join(directory, name)
        if not os.path.isfile(path) or os.path.islink(path):
            problems.append(f"{name}: missing")
        elif hash_file(path) != {"sha256": entry["sha256"], "size": entry["size"]}:
            problems.append(f"{name}: content does not match the manifest")
    return problems
