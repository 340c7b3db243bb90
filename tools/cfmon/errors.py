"""User-facing errors: what is wrong, where, and how to fix it (exit code 2, never a traceback)."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: bad input, missing file or tool. The CLI prints it and exits 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        self.hint = hint

    def __str__(self) -> str:
        where = self.file or ""
        if where and self.line:
            where += f":{self.line}"
        parts = [f"{where}: " if where else ""]
        if self.key:
            parts.append(f"{self.key}: ")
        parts.append(self.message)
        text = "".join(parts)
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class ToolMissing(UserError):
    """A pinned external tool is absent or at an unsupported version."""
