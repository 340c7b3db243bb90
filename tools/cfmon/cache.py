"""A persistent cache for results that are pure functions of their input bytes.

promtool, amtool and go-jsonnet give the same answer for the same tool version and the same input
files, and they are most of what `cfmon verify` spends. Their results are kept under
build/cache/<kind>/ keyed by a SHA-256 over the tool and its version, the arguments and the bytes
of every input, so that changing any input byte (or upgrading the tool) misses the cache and runs
the tool again. Commands turn it on with `configure()`; `--no-cache` (or CFMON_NO_CACHE=1) leaves
it off, and so does any library use that does not ask for it (the tests run cold unless they opt
in).

CFMON_CACHE_DIR puts the cache in another directory than build/cache/. Several checkouts may share
one (the test suite shares one between its throwaway copies of the repository): a key names files
relative to the tree they are in and covers every byte of them, so sharing only turns the same
work into a hit.

Scratch paths: the inputs live in a temporary directory that differs at every run. Callers name it
as `scrub`; it is replaced by a placeholder in the key material and in the stored output, and put
back (the current run's directory) when a result is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Bump when the stored format or the meaning of a key changes: old entries then simply miss.
FORMAT = 1
PLACEHOLDER = "\x00scratch\x00"

_directory: Path | None = None
STATS = {"hits": 0, "misses": 0}


def configure(directory: Path | None) -> None:
    """Use `directory` for the cache from now on, or CFMON_CACHE_DIR when that is set (None, or
    CFMON_NO_CACHE=1 in the environment: off)."""
    global _directory
    if directory is None or os.environ.get("CFMON_NO_CACHE") == "1":
        _directory = None
    else:
        _directory = Path(os.environ.get("CFMON_CACHE_DIR") or directory)


def enabled() -> bool:
    return _directory is not None


class Key:
    """Accumulates the material a cached result depends on; `digest` is its SHA-256."""

    def __init__(self, kind: str, scrub: Path | str | None = None) -> None:
        self.kind = kind
        self.scrub = str(scrub) if scrub else None
        self._hash = hashlib.sha256(f"cfmon-cache/{FORMAT}/{kind}\n".encode())

    def _neutral(self, data: bytes) -> bytes:
        return data.replace(self.scrub.encode(), PLACEHOLDER.encode()) if self.scrub else data

    def add(self, label: str, data: bytes | str) -> Key:
        """One named piece of material (its length is hashed too, so pieces cannot run together)."""
        raw = data.encode() if isinstance(data, str) else data
        raw = self._neutral(raw)
        name = self._neutral(label.encode())
        self._hash.update(b"%s\n%d\n" % (name, len(raw)))
        self._hash.update(raw)
        return self

    def add_files(self, paths: list[Path]) -> Key:
        for path in sorted(paths):
            self.add(f"file {path}", path.read_bytes())
        return self

    def add_tree(self, root: Path) -> Key:
        """Every regular file below `root`, by relative path and content."""
        return self.add_files([p for p in root.rglob("*") if p.is_file()])

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def _path(self) -> Path:
        assert _directory is not None
        d = self.digest
        return _directory / self.kind / d[:2] / f"{d}.json"

    def get(self) -> Any | None:
        """The stored value (scratch placeholder restored), or None when absent or off."""
        if _directory is None:
            return None
        try:
            text = self._path().read_text()
        except (OSError, UnicodeDecodeError):
            STATS["misses"] += 1
            return None
        if self.scrub:
            text = text.replace(json.dumps(PLACEHOLDER)[1:-1], json.dumps(self.scrub)[1:-1])
        try:
            value = json.loads(text)
        except ValueError:
            STATS["misses"] += 1
            return None
        STATS["hits"] += 1
        return value

    def put(self, value: Any) -> None:
        """Store `value` (JSON-serialisable) atomically; a concurrent writer of the same key is harmless."""
        if _directory is None:
            return
        text = json.dumps(value, sort_keys=True)
        if self.scrub:
            text = text.replace(json.dumps(self.scrub)[1:-1], json.dumps(PLACEHOLDER)[1:-1])
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
