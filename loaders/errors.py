"""Every failure the user can act on, mapped once at the boundary.

LoaderError                      base: str(e) is a plain sentence fit for a page or the CLI
├── IdentityMissing              no EDGAR_IDENTITY ("Name email") configured; says how to set it
├── UnknownTicker                ticker not in company_tickers.json; .suggestions holds close matches
├── UnknownInsider               no insider of that name or CIK in the store / on EDGAR
├── EdgarUnavailable             EDGAR unreachable or failing after retries (network down, 5xx)
│   └── EdgarBlocked             403 rate block / 429 that outlasted our pauses
├── EdgarForbidden               403 for an undeclared identity (fix EDGAR_IDENTITY)
├── EdgarNotFound                404 for a path EDGAR should have
└── CorruptFiling                a body that is not a well-formed ownershipDocument (.accession)
"""

from __future__ import annotations


class LoaderError(Exception):
    """Base of every error the loaders raise on purpose."""


class IdentityMissing(LoaderError):
    def __init__(self) -> None:
        super().__init__(
            "No EDGAR identity is configured. The SEC requires every request to declare who you are. "
            'Set it before starting, e.g.  export EDGAR_IDENTITY="Jane Doe jane@example.com"  '
            "(a name and an e-mail address)."
        )


class UnknownTicker(LoaderError):
    def __init__(self, ticker: str, suggestions: list[str] | None = None) -> None:
        self.ticker = ticker
        self.suggestions = list(suggestions or [])
        msg = f"Ticker {ticker!r} is not in EDGAR's ticker list."
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(self.suggestions) + "?"
        super().__init__(msg)


class UnknownInsider(LoaderError):
    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = list(suggestions or [])
        msg = f"No insider matching {query!r} was found."
        if self.suggestions:
            msg += " Close matches: " + ", ".join(self.suggestions) + "."
        super().__init__(msg)


class EdgarUnavailable(LoaderError):
    """EDGAR could not be reached or kept failing after retries."""


class EdgarBlocked(EdgarUnavailable):
    """EDGAR is rate-limiting us (429 or a 403 'Request Rate Threshold Exceeded' page)."""


class EdgarForbidden(LoaderError):
    """403 'Undeclared Automated Tool': the identity is missing or not accepted."""


class EdgarNotFound(LoaderError):
    """404 for a path that should exist."""


class CorruptFiling(LoaderError):
    def __init__(self, accession: str | None, reason: str) -> None:
        self.accession = accession
        self.reason = reason
        super().__init__(f"Filing {accession or '(unknown accession)'} could not be read: {reason}")
