"""An independent count of open-market purchases and cluster buys straight from ownership XML files.

It does not use the project's parser or store: lxml over the files, the rules written out again here, so a test
comparing it with analytics.market catches a bug in either. Rules (as README "Cluster buys" says):
- purchases are Table I rows (nonDerivativeTransaction) with transactionCode P; the insider is the filing's first
  reportingOwner; the trade date is transactionDate (the period of report when it is missing or before 1990);
- a 4/A restating Table I transactions of an original (same issuer, same first owner, same period) replaces the
  original's Table I transactions;
- a purchase reported in several owners' filings counts once (the joint-filing rule of analytics.flow, applied
  here with its pandas implementation to rows read from the XML; the pages use the SQL one), for the row filed
  first (filing dates from `filing_dates`, as the store has them);
- per issuer, purchase days in date order; a cluster opens at the first purchase not yet in a cluster and takes
  every purchase up to `window` days after it; kept with >= min_insiders distinct insiders.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def _text(node, path: str) -> str | None:
    found = node.find(path)
    if found is None:
        return None
    value = found.find("value")
    text = (value.text if value is not None else found.text) or ""
    return text.strip() or None


def _date(raw: str | None) -> dt.date | None:
    try:
        d = dt.date.fromisoformat((raw or "")[:10])
    except ValueError:
        return None
    return d if d.year >= 1990 else None


def _number(raw: str | None) -> float | None:
    try:
        return float((raw or "").replace(",", ""))
    except ValueError:
        return None


def read_purchases(
    files: list[Path], filing_dates: dict[str, str] | None = None, once: bool = True
) -> list[dict]:
    """Every live open-market purchase row of the files (issuer, owner, name, ticker, date, shares, value); with
    `once`, a purchase reported in several owners' filings only once (as totals count it; listings show all)."""
    filings = []
    for path in files:
        root = etree.fromstring(path.read_bytes(), _PARSER)
        if root is None or root.tag != "ownershipDocument":
            continue
        owner = root.find("reportingOwner/reportingOwnerId")
        period = _date(_text(root, "periodOfReport"))
        rows, has_table1 = [], False
        for tx in root.findall("nonDerivativeTable/nonDerivativeTransaction"):
            has_table1 = True
            if (_text(tx, "transactionCoding/transactionCode") or "").upper() != "P":
                continue
            shares = _number(_text(tx, "transactionAmounts/transactionShares"))
            price = _number(_text(tx, "transactionAmounts/transactionPricePerShare"))
            rows.append({
                "date": _date(_text(tx, "transactionDate")) or period,
                "shares": shares or 0.0,
                "value": (shares * price) if shares is not None and price is not None else 0.0,
                "price": price,
                "owned_after": _number(_text(tx, "postTransactionAmounts/sharesOwnedFollowingTransaction")),
                "direct_indirect": _text(tx, "ownershipNature/directOrIndirectOwnership"),
                "nature": _text(tx, "ownershipNature/natureOfOwnership"),
                "security_title": _text(tx, "securityTitle"),
                "acquired_disposed": _text(tx, "transactionAmounts/transactionAcquiredDisposedCode"),
                "seq": len(rows),
            })  # fmt: skip
        filings.append({
            "accession": path.stem,
            "form": (_text(root, "documentType") or "").strip(),
            "issuer": int(_text(root, "issuer/issuerCik") or 0),
            "ticker": (_text(root, "issuer/issuerTradingSymbol") or "").upper(),
            "owner": int((owner.findtext("rptOwnerCik") or "0").strip()),
            "name": (owner.findtext("rptOwnerName") or "").strip(),
            "period": period,
            "table1": has_table1,
            "rows": rows,
        })  # fmt: skip
    restated = set()
    for a in (f for f in filings if f["form"].endswith("/A") and f["table1"]):
        for o in filings:
            same = (o["issuer"], o["owner"], o["period"]) == (a["issuer"], a["owner"], a["period"])
            if same and o is not a and not o["form"].endswith("/A"):
                restated.add(o["accession"])
    out = []
    for f in filings:
        if f["accession"] in restated:
            continue
        for r in f["rows"]:
            out.append({"issuer": f["issuer"], "owner": f["owner"], "name": f["name"], "ticker": f["ticker"],
                        "accession": f["accession"], **r})  # fmt: skip
    return _once(out, filing_dates or {}) if once else out


def _once(rows: list[dict], filing_dates: dict[str, str]) -> list[dict]:
    """Drop the rows that repeat a purchase another owner's filing reported first (analytics.flow's rule)."""
    import pandas as pd

    from analytics.flow import joint_duplicates

    if not rows:
        return rows
    frame = pd.DataFrame(rows)
    tx = pd.DataFrame({
        "row_id": frame["accession"] + ":" + frame["seq"].astype(str), "accession": frame["accession"],
        "seq": frame["seq"], "filing_date": pd.to_datetime(frame["accession"].map(filing_dates)),
        "owner_cik": frame["owner"], "owner_name": frame["name"], "owner_names": frame["name"],
        "direct_indirect": frame["direct_indirect"], "nature": frame["nature"],
        "security_title": frame["security_title"], "issuer_cik": frame["issuer"], "table": "nonDerivative",
        "transaction_date": pd.to_datetime(frame["date"]), "code": "P",
        "acquired_disposed": frame["acquired_disposed"], "shares": frame["shares"], "price": frame["price"],
        "owned_after": frame["owned_after"],
    })  # fmt: skip
    keep = joint_duplicates(tx)["duplicate_of"].isna().to_numpy()
    return [r for r, k in zip(rows, keep, strict=True) if k]


def clusters(purchases: list[dict], start: dt.date, end: dt.date, window: int = 30, min_insiders: int = 2):
    """{(issuer, first buy date): {"insiders": set of CIKs, "value": $, "trades": rows}} of the purchases."""
    by_issuer: dict[int, list[dict]] = defaultdict(list)
    for p in purchases:
        if p["date"] and start <= p["date"] <= end:
            by_issuer[p["issuer"]].append(p)
    out = {}
    for issuer, rows in by_issuer.items():
        rows.sort(key=lambda r: r["date"])
        i = 0
        while i < len(rows):
            first = rows[i]["date"]
            group = [r for r in rows[i:] if (r["date"] - first).days <= window]
            i += len(group)
            insiders = {r["owner"] for r in group}
            if len(insiders) >= min_insiders:
                out[(issuer, first)] = {
                    "insiders": insiders,
                    "value": round(sum(r["value"] for r in group), 2),
                    "trades": len(group),
                }
    return out
