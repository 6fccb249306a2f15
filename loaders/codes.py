"""The SEC's transaction codes (Form 4 General Instructions, item 8) with plain-English names."""

from __future__ import annotations

TRANSACTION_CODES: dict[str, str] = {
    "P": "Open-market or private purchase",
    "S": "Open-market or private sale",
    "V": "Voluntarily reported earlier than required",
    "A": "Grant or award from the company",
    "D": "Disposition to the issuer",
    "F": "Tax or exercise price paid with shares (withholding)",
    "I": "Discretionary transaction (Rule 16b-3(f))",
    "M": "Exercise or conversion of a derivative (Rule 16b-3)",
    "C": "Conversion of a derivative security",
    "E": "Expiration of a short derivative position",
    "H": "Expiration or cancellation of a long derivative position with value received",
    "O": "Exercise of an out-of-the-money derivative",
    "X": "Exercise of an in-the-money or at-the-money derivative",
    "G": "Gift",
    "L": "Small acquisition (Rule 16a-6)",
    "W": "Acquisition or disposition by will or the laws of descent",
    "Z": "Deposit into or withdrawal from a voting trust",
    "J": "Other acquisition or disposition (see footnotes)",
    "K": "Equity swap or similar instrument",
    "U": "Disposition in a tender of shares in a change of control",
}

SHORT_NAMES: dict[str, str] = {
    "P": "Purchase", "S": "Sale", "V": "Voluntary report", "A": "Grant/award", "D": "To issuer",
    "F": "Tax withholding", "I": "Discretionary", "M": "Option exercise", "C": "Conversion",
    "E": "Short expiry", "H": "Long expiry", "O": "OTM exercise", "X": "ITM exercise", "G": "Gift",
    "L": "Small acquisition", "W": "Inheritance", "Z": "Voting trust", "J": "Other", "K": "Equity swap",
    "U": "Tender",
}  # fmt: skip

OPEN_MARKET = ("P", "S")


def code_name(code: str | None) -> str | None:
    """Plain-English name of an SEC transaction code; None for a missing code, 'Unknown code X' otherwise."""
    if not code:
        return None
    return TRANSACTION_CODES.get(code.strip().upper(), f"Unknown code {code.strip()}")
