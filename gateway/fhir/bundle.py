"""Bundles the server returns: searchset (with paging links), history, and
the responses of batch and transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode


def full_url(base: str, resource: dict[str, Any]) -> str:
    return f"{base}/{resource['resourceType']}/{resource['id']}"


def searchset(
    base: str,
    path: str,
    params: list[tuple[str, str]],
    matches: list[dict[str, Any]],
    *,
    included: list[dict[str, Any]] | None = None,
    total: int | None = None,
    next_cursor: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:
    kept = [(k, v) for k, v in params if k != "_cursor"]
    links = [{"relation": "self", "url": f"{base}/{path}" + (f"?{urlencode(kept)}" if kept else "")}]
    if next_cursor:
        links.append({"relation": "next", "url": f"{base}/{path}?{urlencode(kept + [('_cursor', next_cursor)])}"})
    entries = [{"fullUrl": full_url(base, r), "resource": r, "search": {"mode": "match"}} for r in matches]
    entries += [{"fullUrl": full_url(base, r), "resource": r, "search": {"mode": "include"}} for r in included or []]
    if outcome:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset",
        "meta": {"lastUpdated": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        "link": links, "entry": entries,
    }
    if total is not None:
        bundle["total"] = total
    return bundle


def history(base: str, path: str, versions: list[tuple[dict[str, Any], str, str]]) -> dict[str, Any]:
    """``versions``: (resource, method, lastModified) newest first."""
    return {
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "history", "total": len(versions),
        "link": [{"relation": "self", "url": f"{base}/{path}"}],
        "entry": [
            {"fullUrl": full_url(base, r), "resource": r,
             "request": {"method": method, "url": f"{r['resourceType']}/{r['id']}"},
             "response": {"status": "201" if method == "POST" else "200", "lastModified": modified,
                          "etag": f'W/"{r.get("meta", {}).get("versionId", "1")}"'}}
            for r, method, modified in versions
        ],
    }
