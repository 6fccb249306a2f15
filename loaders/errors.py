"""Every failure the user can act on, mapped once at the boundary.

LoaderError                      base: str(e) is a plain sentence fit for a page or the CLI
├── IdentityMissing              no EDGAR_IDENTITY configured, or one not of the form "Name email"; says how to set it
├── UnknownTicker                ticker not in company_tickers.json; .suggestions holds close matches
├── UnknownInsider               no insider of that name or CIK in the store / on EDGAR
├── EdgarUnavailable             EDGAR unreachable or failing after retries (network down, 5xx)
│   └── EdgarBlocked             403 rate block / 429 that outlasted our pauses (.until: when it may lift)
├── EdgarBadAnswer               an answer we refuse: off-host redirect, redirect loop, over its size cap, bad
│                                gzip, JSON of the wrong shape, an unsafe accession/CIK/file name (.url)
├── EdgarForbidden               403 for an undeclared identity (fix EDGAR_IDENTITY)
├── EdgarNotFound                404 for a path EDGAR should have
├── CorruptFiling                a body that is not a well-formed ownershipDocument (.accession)
└── Cancelled                    the pull was stopped (Ctrl-C, app shutdown) while waiting for EDGAR
"""

from __future__ import annotations


class LoaderError(Exception):
    """Base of every error the loaders raise on purpose."""

    report: object = None  # what a pull had done before the error (set by loaders.pipeline for the CLI)


class IdentityMissing(LoaderError):
    def __init__(self, given: str | None = None) -> None:
        self.given = given
        given = "".join(ch if ch.isprintable() else "?" for ch in given or "")[:80]
        how = (
            'Set it before starting, e.g.  export EDGAR_IDENTITY="Jane Doe jane@example.com"  '
            "(a name and an e-mail address)."
        )
        if given:
            super().__init__(
                f'EDGAR_IDENTITY is set to "{given}", which is not of the form "Name email" that the SEC '
                f"requires (a name, a space, then an e-mail address). {how}"
            )
        else:
            super().__init__(
                f"No EDGAR identity is configured. The SEC requires every request to declare who you are. {how}"
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

    def __init__(self, message: str, until: float | None = None) -> None:
        self.until = until
        super().__init__(message)


class EdgarBadAnswer(LoaderError):
    """An answer refused on purpose (see the tree above); str(e) names the URL and what was wrong."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"EDGAR's answer for {url} was refused: {problem}.")


class EdgarForbidden(LoaderError):
    """403 'Undeclared Automated Tool': the identity is missing or not accepted."""


class EdgarNotFound(LoaderError):
    """404 for a path that should exist."""


class CorruptFiling(LoaderError):
    def __init__(self, accession: str | None, reason: str) -> None:
        self.accession = accession
        self.reason = reason
        super().__init__(f"Filing {accession or '(unknown accession)'} could not be read: {reason}")


class Cancelled(LoaderError):
    def __init__(self) -> None:
        super().__init__("The pull was cancelled; everything fetched and stored so far is kept.")
