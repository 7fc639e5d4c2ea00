"""Errors raised by the local-monitor services.

Every service raises one of these, never a bare ``ValueError``, so the CLI and a web router can
map them to an exit code or an HTTP status without parsing messages:

* :class:`PermissionDenied` -> HTTP 403, CLI exit 3
* :class:`NotFound` -> HTTP 404, CLI exit 4
* :class:`ValidationFailed` (with :class:`RowError` items for tabular input) -> HTTP 422, CLI exit 2
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class LocalError(Exception):
    """Base class of all local-monitor errors."""


class PermissionDenied(LocalError):
    """The acting user may not perform this action."""


class NotFound(LocalError):
    """The named user, target, intervention, area or indicator does not exist."""


@dataclass(frozen=True)
class RowError:
    """One rejected row of an uploaded file.

    ``row`` is 1-based as a spreadsheet shows it (the header is row 1, the first data row is
    row 2); ``row`` is ``None`` and ``column`` may be ``None`` for errors about the whole file.
    """

    row: int | None
    column: str | None
    reason: str
    value: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"rij {self.row}")
        if self.column is not None:
            where.append(f"kolom {self.column!r}")
        prefix = ", ".join(where)
        shown = f" (waarde {self.value!r})" if self.value not in (None, "") else ""
        return f"{prefix}: {self.reason}{shown}" if prefix else f"{self.reason}{shown}"


class ValidationFailed(LocalError):
    """Input was rejected; nothing was written.

    Parameters
    ----------
    message : str
        Summary (Dutch, shown to the user).
    errors : list of RowError, optional
        Every rejected row/field, for tabular input.
    file : str, optional
        Name of the offending file.
    """

    def __init__(self, message: str, errors: list[RowError] | None = None,
                 file: str | None = None):
        self.errors = list(errors or [])
        self.file = file
        self.summary = message
        text = f"{file}: {message}" if file else message
        if self.errors:
            shown = "\n".join(f"  {e}" for e in self.errors[:50])
            more = f"\n  ... en nog {len(self.errors) - 50} fouten" if len(self.errors) > 50 else ""
            text = f"{text}\n{shown}{more}"
        super().__init__(text)

    def as_dict(self) -> dict:
        return {"error": self.summary, "file": self.file,
                "errors": [e.as_dict() for e in self.errors]}
