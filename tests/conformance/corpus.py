"""The partner-message corpus (conformance/messages/{fhir,soap}/{valid,invalid})
as test data: each message with its sidecar's verdict, findings and instant."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gateway.contracts import contract

ROOT = contract("conformance", "messages")
# SOAP sidecars say when to judge their security; FHIR messages do not care.
DEFAULT_AT = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Message:
    path: Path
    sidecar: Path
    expected: dict[str, Any]

    @property
    def family(self) -> str:  # fhir | soap
        return self.path.parent.parent.name

    @property
    def valid(self) -> bool:
        return bool(self.expected["valid"])

    @property
    def findings(self) -> Counter[tuple[str, str]]:
        return Counter((f["rule"], f["path"]) for f in self.expected.get("findings", []))

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.expected["at"]) if "at" in self.expected else DEFAULT_AT

    @property
    def at_text(self) -> str:
        return self.at.isoformat()

    @property
    def id(self) -> str:
        return f"{self.family}/{self.path.parent.name}/{self.path.name}"


def _message(sidecar: Path) -> Message:
    stem = sidecar.name[: -len(".expected.json")]
    found = [p for p in sidecar.parent.iterdir() if p.name in (f"{stem}.json", f"{stem}.xml")]
    assert len(found) == 1, f"one message for {sidecar}"
    return Message(found[0], sidecar, json.loads(sidecar.read_text(encoding="utf-8")))


def messages(family: str | None = None) -> list[Message]:
    pattern = f"{family or '*'}/*/*.expected.json"
    return [_message(s) for s in sorted(ROOT.glob(pattern))]
