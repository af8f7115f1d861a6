"""The mapping of a family software's export to our families format (a TOML file).

    encoding = "cp1252"                   # utf-8 (default), cp1252, latin-1…
    separator = ";"                       # default: guessed from the header (; , or tab)
    date_formats = ["%d/%m/%Y", "%m/%Y", "%Y"]
    [columns]                             # our column = their header (default: our name)
    family_id = "N° famille"
    [roles]                               # their value = ours (parent, child, other_guardian)
    PERE = "parent"
    [sexes]                               # their value = ours (M, F)
    "1" = "M"

Checked strictly: an unknown key, a column of ours that does not exist, a role
or sex we do not have, a date format we cannot read, and the error says which
key of which file, in English (administrators' tool).
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError, field_validator, model_validator

from counter.backend.settings import Strict
from counter.domain.family_rows import (
    COLUMNS,
    DEFAULT_DATE_FORMATS,
    DEFAULT_ROLES,
    DEFAULT_SEXES,
    REQUIRED,
    RowReading,
    check_date_format,
)
from counter.domain.identity_checks import ROLES, SEXES
from counter.domain.text import has_controls
from counter.files import InvalidToml, UnreadableFile, read_toml

MAX_BYTES = 64 * 1024
SEPARATORS = (";", ",", "\t", "|")


class MappingError(Exception):
    """The mapping file cannot be used; the message names the file and the key (English)."""


def _no_controls(value):
    if isinstance(value, str) and has_controls(value):
        raise ValueError("control or invisible characters are not allowed")
    return value


Columns = Strict.__class__("Columns", (Strict,), {
    "__annotations__": {name: "str | None" for name in COLUMNS}, **{name: None for name in COLUMNS},
    "__module__": __name__})


class MappingFile(Strict):
    encoding: str = "utf-8"
    separator: str | None = None
    date_formats: list[str] | str = list(DEFAULT_DATE_FORMATS)
    columns: Columns = Columns()  # type: ignore[valid-type]
    roles: dict[str, str] | None = None
    sexes: dict[str, str] | None = None

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (utf-8, cp1252, latin-1…)") from None
        if name.startswith("utf-16") or name.startswith("utf-32"):
            raise ValueError(f"{value!r}: give the file in utf-8 or cp1252")
        return value

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str | None) -> str | None:
        if value is not None and value not in SEPARATORS:
            raise ValueError(f"one of {', '.join(repr(s) for s in SEPARATORS)}")
        return value

    @field_validator("date_formats")
    @classmethod
    def _formats(cls, value: list[str] | str) -> list[str]:
        formats = [value] if isinstance(value, str) else value
        if not formats:
            raise ValueError("at least one date format")
        for fmt in formats:
            if problem := check_date_format(fmt):
                raise ValueError(problem)
        return formats

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for theirs, ours in (value or {}).items():
            _no_controls(theirs)
            if ours not in ROLES:
                raise ValueError(f"{theirs!r} = {ours!r}: ours are {', '.join(ROLES)}")
        if value is not None and not value:
            raise ValueError("at least one role")
        return value

    @field_validator("sexes")
    @classmethod
    def _sexes(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for theirs, ours in (value or {}).items():
            _no_controls(theirs)
            if ours not in SEXES:
                raise ValueError(f"{theirs!r} = {ours!r}: ours are {', '.join(SEXES)}")
        if value is not None and not value:
            raise ValueError("at least one sex")
        return value

    @model_validator(mode="after")
    def _headers(self) -> MappingFile:
        headers = [h.strip().casefold() for h in self.columns.model_dump().values() if h is not None]
        twice = sorted({h for h in headers if headers.count(h) > 1})  # headers are read without case
        if twice:
            raise ValueError(f"columns: {', '.join(repr(h) for h in twice)} given for two of our columns")
        if any(not h.strip() for h in headers):
            raise ValueError("columns: a header cannot be blank")
        return self


@dataclass(frozen=True)
class Mapping:
    """How to read a families file: our column → its header, encoding, separator, values."""

    headers: dict[str, str]  # our column -> the file's header
    encoding: str = "utf-8"
    separator: str | None = None  # None: guessed from the header line
    reading: RowReading = RowReading()

    @property
    def required_headers(self) -> dict[str, str]:
        return {c: h for c, h in self.headers.items() if c in REQUIRED}


DEFAULT = Mapping(headers={c: c for c in COLUMNS})


def _unknown_key(where: tuple) -> str:
    """``unknown key``, with the nearest key there is (a typo, ``date_format``)."""
    known = COLUMNS if where[:1] == ("columns",) else tuple(MappingFile.model_fields)
    near = difflib.get_close_matches(str(where[-1]), known, n=1, cutoff=0.6)
    return f"unknown key (did you mean {near[0]}?)" if near else f"unknown key (known: {', '.join(known)})"


def load_mapping(path: Path) -> Mapping:
    """The mapping file, checked (MappingError says which key is wrong)."""
    try:
        data = read_toml(Path(path), "the mapping file", MAX_BYTES)
    except InvalidToml as exc:
        raise MappingError(f"{path}: not a valid TOML file ({exc.detail})") from None
    except UnreadableFile as exc:
        raise MappingError(str(exc)) from None
    try:
        parsed = MappingFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = _unknown_key(error["loc"]) if error["type"] == "extra_forbidden" else \
            error["msg"].removeprefix("Value error, ")
        raise MappingError(f"{path}: {where}: {message}") from None
    given = {c: h for c, h in parsed.columns.model_dump().items() if h is not None}
    taken = set(given.values())
    # A column the mapping does not name keeps our name (when no other column of ours took it).
    given = {c: given.get(c, c) for c in COLUMNS if c in given or c not in taken}
    formats = parsed.date_formats if isinstance(parsed.date_formats, list) else [parsed.date_formats]
    reading = RowReading(date_formats=tuple(formats),
                         roles=tuple((parsed.roles or DEFAULT_ROLES).items()),
                         sexes=tuple((parsed.sexes or DEFAULT_SEXES).items()))
    return Mapping(headers=given, encoding=parsed.encoding, separator=parsed.separator, reading=reading)
