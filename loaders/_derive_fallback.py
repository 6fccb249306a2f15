"""TEMPORARY stand-in for loaders.derive.derive_filing (issue 8) until it lands on main: the parser's own rules
applied to raw facts (text or typed), so the data-set loader works meanwhile. Delete once loaders/derive.py exists.
"""

from __future__ import annotations

import datetime as dt
import re

from loaders.codes import code_name
from loaders.parser import (
    IMPLAUSIBLE_PRICE,
    IMPLAUSIBLE_VALUE,
    LATE_AFTER_BUSINESS_DAYS,
    PLAN_CODES,
    TENB51_RE,
    _bool,
    _flag_holdings_chain,
    adoption_date,
    business_days,
    filing_url,
    price_range,
    tenb51_mention,
    to_date,
    to_number,
)

_MON = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DMY = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_DERIV = ("conversion_price", "exercise_date", "expiration_date", "underlying_title", "underlying_shares")


def _date(v):
    if v is None or isinstance(v, dt.date):
        return v
    m = _DMY.match(v)
    if m:
        try:
            return dt.date(int(m[3]), _MON[m[2].upper()], int(m[1]))
        except (KeyError, ValueError):
            return None
    return to_date(v)


def _num(v):
    return v if v is None or isinstance(v, float | int) else to_number(v)


def _b(v):
    return v if v is None or isinstance(v, bool) else _bool(v)


def derive_filing(
    filing: dict, transactions: list[dict], holdings: list[dict], footnotes: dict[str, str]
) -> None:
    form = filing.get("form") or "4"
    period, fdate = _date(filing.get("period_of_report")), _date(filing.get("filing_date"))
    source = filing.get("filing_date_source")
    sig = _date(filing.get("signature_date"))
    if fdate is None:
        fdate, source = (sig, "signature") if sig else (period, "period")
    checkbox = _b(filing.get("aff10b5one"))
    remarks = filing.get("remarks")
    filing.update(
        form=form,
        is_amendment=form.endswith("/A"),
        period_of_report=period,
        filing_date=fdate,
        filing_date_source=source,
        signature_date=sig,
        date_of_original_submission=_date(filing.get("date_of_original_submission")),
        aff10b5one=checkbox,
        n_transactions=len(transactions),
        n_holdings=len(holdings),
        filing_url=filing_url(filing.get("issuer_cik"), filing.get("accession")),
    )
    refs = {i for r in (*transactions, *holdings) for i in (r.get("footnote_ids") or "").split(",") if i}
    plan_notes = {k: v for k, v in footnotes.items() if TENB51_RE.search(v)}
    filing_plan = None
    for k, v in plan_notes.items():
        if k not in refs and (said := tenb51_mention(v)) is not None:
            filing_plan = (said, "filing_footnote")
            break
    if filing_plan is None and remarks and (said := tenb51_mention(remarks)) is not None:
        filing_plan = (said, "remarks")
    filing_adoption = next(
        (d for t in [*plan_notes.values(), remarks or ""] if (d := adoption_date(t))), None
    )

    def common(row):
        ids = [i for i in (row.get("footnote_ids") or "").split(",") if i]
        notes = [(i, footnotes.get(i)) for i in ids]
        row.update(form=form, filing_date=fdate, period_of_report=period)
        if row["table"] != "derivative":
            row.update(dict.fromkeys(_DERIV))
        else:
            row.update(
                conversion_price=_num(row.get("conversion_price")),
                exercise_date=_date(row.get("exercise_date")),
                expiration_date=_date(row.get("expiration_date")),
                underlying_shares=_num(row.get("underlying_shares")),
            )
        row.update(
            direct_indirect=(row.get("direct_indirect") or "").upper()[:1] or None,
            footnotes="\n".join(f"{i}: {t}" for i, t in notes if t) or None,
        )
        return [t for _, t in notes if t]

    for table in ("nonDerivative", "derivative"):
        rows = [r for r in transactions if r["table"] == table]
        for row in rows:
            notes = common(row)
            flags = []
            raw = row.get("transaction_date_raw")
            tdate = _date(raw)
            if tdate is not None and tdate.year < 1990:
                flags.append("date_before_1990")
            if tdate is not None and fdate is not None and tdate > fdate:
                flags.append("date_after_filing")
            horizon = fdate or period
            if (
                tdate is None
                or tdate.year < 1990
                or (horizon is not None and tdate > horizon + dt.timedelta(days=366))
            ) and period is not None:
                flags.append("date_fallback")
                tdate = period
            deemed = _date(row.get("deemed_execution_date"))
            code = (row.get("code") or "").upper() or None
            ad = (row.get("acquired_disposed") or "").upper()[:1] or None
            shares, price = to_number(row.get("shares_raw")), to_number(row.get("price_raw"))
            if (row.get("shares_raw") is not None and shares is None) or (
                row.get("price_raw") is not None and price is None
            ):
                flags.append("value_missing")
            value = shares * price if shares is not None and price is not None else None
            if (value is not None and value > IMPLAUSIBLE_VALUE) or (
                price is not None and price > IMPLAUSIBLE_PRICE
            ):
                flags.append("implausible_value")
            sign = -1.0 if ad == "D" else 1.0
            timeliness = (row.get("timeliness") or "").upper()[:1] or None
            start = deemed or tdate
            late = (
                business_days(start, fdate)
                if start is not None and fdate is not None and form == "4"
                else None
            )
            is_late = (
                True if timeliness == "L" else (late > LATE_AFTER_BUSINESS_DAYS if late is not None else None)
            )
            said = next((s for t in notes if (s := tenb51_mention(t)) is not None), None)
            if checkbox is not None:
                plan, src = checkbox, "checkbox"
                if said is not None and said != checkbox:
                    flags.append("tenb51_conflict")
            elif said is not None:
                plan, src = said, "row_footnote"
            elif filing_plan is not None and code in PLAN_CODES:
                plan, src = filing_plan
            else:
                plan, src = None, None
            rng = next((r for t in notes if (r := price_range(t))), None)
            adoption = (
                (next((d for t in notes if (d := adoption_date(t))), None) or filing_adoption)
                if plan
                else None
            )
            row.update(
                transaction_date=tdate,
                deemed_execution_date=deemed,
                code=code,
                code_name=code_name(code),
                equity_swap=_b(row.get("equity_swap")),
                timeliness=timeliness,
                acquired_disposed=ad,
                shares=shares,
                price=price,
                value=value,
                signed_shares=sign * shares if shares is not None else None,
                signed_value=sign * value if value is not None else None,
                owned_after=to_number(row.get("owned_after_raw")),
                value_owned_after=_num(row.get("value_owned_after")),
                is_10b5_1=plan,
                tenb51_source=src,
                plan_adoption_date=adoption,
                price_low=rng[0] if rng else None,
                price_high=rng[1] if rng else None,
                late_business_days=late,
                is_late=is_late,
                flags=",".join(flags) or None,
            )
        _flag_holdings_chain(rows)
    for row in holdings:
        common(row)
        raw = row.get("shares_owned_raw")
        shares = to_number(raw)
        row.update(
            shares_owned=shares,
            value_owned=_num(row.get("value_owned")),
            flags="value_missing" if raw is not None and shares is None else None,
        )
