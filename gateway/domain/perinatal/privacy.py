"""The privacy statement and the terms of use of the perinatal programme
(PN-3), rendered from ``profiles/perinatal-privacy.yaml``, the one source of
truth about its data, purposes, roles, retention and rights, so that what
the gateway serves cannot drift from what the code stores (tests check
every stored column and every role against it)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from gateway.contracts import contract

STATEMENT, TERMS = "perinatal-privacy-statement", "perinatal-terms-of-use"
TITLES = {STATEMENT: "Privacy statement", TERMS: "Terms of use"}


@lru_cache(maxsize=1)
def source() -> dict[str, Any]:
    return yaml.safe_load(contract("profiles", "perinatal-privacy.yaml").read_text(encoding="utf-8"))


def stored_columns() -> set[str]:
    """Every ``table.column`` the statement lists as stored."""
    return {column for item in source()["data"] for column in item["stored"]}


def _items(lines: list[str]) -> str:
    return "".join(f"- {line}\n" for line in lines)


def privacy_statement() -> str:
    """PN-3: which data and why, controller and processor, who has access,
    the legal basis, the withdrawal of consent, the rights and how to
    exercise them, retention, the means of appeal."""
    s = source()
    purposes = {p["id"]: p["text"] for p in s["purposes"]}
    out = [f"# {TITLES[STATEMENT]}: {s['programme']}\n\nVersion {s['version']}, {s['updated']}.\n"]
    out.append("\n## Which data we collect, and why\n\n")
    out.append(_items([f"{d['element']}. Why: {purposes[d['purpose']]}" for d in s["data"]]))
    out.append("\nThe data come from:\n\n" + _items(s["sources"]))
    out.append("\n## Who is responsible\n\n")
    out.append(f"Controller: {s['controller']['name']}. {s['controller']['description'].strip()}\n\n")
    out.append(_items([f"Processor: {p['name']}. {p['task']}" for p in s["processors"]]))
    out.append(f"\nData protection officer: {s['controller']['dpo']}\n")
    out.append("\n## Who has access to your data\n\n")
    out.append(_items([f"`{role}`: {text}" for role, text in s["roles"].items()]))
    out.append(f"\n## Legal basis\n\n{s['legal_basis'].strip()}\n")
    out.append(f"\n## Withdrawing your consent, at any time\n\n{s['consent_withdrawal'].strip()}\n")
    out.append("\n## Your rights, and how to exercise them\n\n")
    out.append(_items([f"{r['text']} ({r['id']})" for r in s["rights"]]))
    out.append(f"\n{s['how_to_exercise'].strip()}\n")
    out.append(f"\n## How long we keep your data\n\n{s['retention'].strip()}\n")
    out.append("\n## Means of appeal\n\n" + _items(s["appeal"]))
    return "".join(out)


def terms_of_use() -> str:
    """PN-3: what users (care staff) may do, and on what conditions."""
    s, t = source(), source()["terms_of_use"]
    out = [f"# {TITLES[TERMS]}: {s['programme']}\n\nVersion {s['version']}, {s['updated']}.\n"]
    out.append(f"\n## Users\n\n{t['users']}\n")
    out.append("\n## Conditions of access\n\n" + _items(t["access_conditions"]))
    out.append("\n## What users may do\n\n" + _items(t["rights"]))
    out.append("\n## Users' responsibilities\n\n" + _items(t["responsibilities"]))
    return "".join(out)


def document(name: str) -> str:
    return {STATEMENT: privacy_statement, TERMS: terms_of_use}[name]()


def documents_markdown() -> str:
    """docs/perinatal-privacy.md: both documents, as served."""
    header = ("<!-- generated from profiles/perinatal-privacy.yaml by gateway.domain.perinatal.privacy: do not edit by "
              "hand -->\n\n")
    return header + privacy_statement() + "\n" + terms_of_use()
