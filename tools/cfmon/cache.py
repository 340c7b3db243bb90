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
import time
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
        value = self._read()
        STATS["hits" if value is not None else "misses"] += 1
        return value

    def _read(self) -> Any | None:
        try:
            text = self._path().read_text()
        except (OSError, UnicodeDecodeError):
            return None
        if self.scrub:
            text = text.replace(json.dumps(PLACEHOLDER)[1:-1], json.dumps(self.scrub)[1:-1])
        try:
            return json.loads(text)
        except ValueError:
            return None

    # Claims: processes checking renders side by side need many of the same results at the same
    # time; the first to claim a key computes it, the others wait for what it stores.

    def _claim_path(self) -> Path:
        return self._path().with_suffix(".claim")

    def claim(self) -> bool:
        """Whether this process should compute the value: True when the cache is off, or when no
        live process has claimed the key (a claim left by a process that died is taken over)."""
        if _directory is None:
            return True
        path = self._claim_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                if _held(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return True
        return False

    def release(self) -> None:
        if _directory is not None:
            self._claim_path().unlink(missing_ok=True)

    def wait(self, timeout: float = 600.0) -> Any | None:
        """The value another process claimed, once it is stored; None when that process gave up
        (its claim is gone or its owner died without storing) or after `timeout` seconds. Not
        counted in STATS: the get() before the claim counted the miss."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self._read()
            if value is not None or not _held(self._claim_path()):
                return value if value is not None else self._read()  # stored as the claim went
            time.sleep(0.05)
        return None

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


def _held(claim: Path) -> bool:
    """Whether a claim stands: its file exists and the process it names is alive (an empty
    file is one being written, for a few seconds at most)."""
    try:
        text = claim.read_text()
        age = time.time() - claim.stat().st_mtime
    except OSError:
        return False
    if not text.strip().isdigit():
        return age < 5
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
