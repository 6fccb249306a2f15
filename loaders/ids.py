"""Accession numbers, CIKs and file names: checked before any of them becomes part of a path or a URL.

Every value here may come from an answer we do not trust (a submissions feed, a ticker map, a file name in a
local folder), so each check is a whitelist: digits where EDGAR has digits, a short plain file name where EDGAR
has a file name, never a separator, `..`, a query or a fragment.
"""

from __future__ import annotations

import re

MAX_CIK = 9_999_999_999  # CIKs are at most 10 digits
ACCESSION_RE = re.compile(r"\d{10}-\d{2}-\d{6}")
_FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_SUBMISSIONS_PAGE_RE = re.compile(r"CIK\d{10}-submissions-\d{3,4}\.json")


def is_accession(value: object) -> bool:
    """True for EDGAR's 0001234567-24-000123 form (10 digits, 2, 6)."""
    return isinstance(value, str) and ACCESSION_RE.fullmatch(value) is not None


def cik(value: object) -> int | None:
    """A CIK as int (1 .. 9,999,999,999) from an int or a string of at most 10 digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_CIK else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 10:
            number = int(text)
            return number if number > 0 else None
    return None


def is_file_name(value: object) -> bool:
    """A plain file name: letters, digits, '.', '_', '-', starting with a letter or digit, no '..'."""
    return isinstance(value, str) and _FILE_NAME_RE.fullmatch(value) is not None and ".." not in value


def is_submissions_page(value: object) -> bool:
    """An older page of a submissions feed as EDGAR names it: CIK##########-submissions-001.json."""
    return isinstance(value, str) and _SUBMISSIONS_PAGE_RE.fullmatch(value) is not None
