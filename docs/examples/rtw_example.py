"""Return to work in the sandbox, end to end in one process (docs/return-to-work.md).

Builds the embedded gateway with its simulated platform in a temporary
folder, signs in an insurer's return-to-work coordinator through eHealth's
IdP and a VDAB counsellor through the crossroads bank's IdP, opens the
dossier of the sandbox's insured person, fills a registration form, and
reads it back as each: the counsellor gets whether the incapacity lasted a
year, never its start date (RP-M1).

Run: python docs/examples/rtw_example.py
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.config import Settings
from gateway.domain.clock import FixedClock
from gateway.domain.database import Database
from gateway.domain.rtw.forms import FillForm
from gateway.ehealth.platform import create_platform_app
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.wiring import build_gateway


def main() -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="rtw-example-"))
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))  # the sandbox's reference day
    db = Database(f"sqlite:///{folder / 'gateway.sqlite3'}")
    db.create_schema()
    gw = build_gateway(Settings(database_url=db.url, sandbox_database_url=f"sqlite:///{folder / 'platform.sqlite3'}",
                                public_url="http://testserver"), clock=clock, db=db)
    idp = TestClient(create_platform_app(gw.platform), follow_redirects=False)  # the IdPs' sign-in pages, as a browser
    coordinator = gw.tokens.principal(rtw_access_token("http://testserver", "oa-rtw-coordinator", http=idp))
    counsellor = gw.tokens.principal(rtw_access_token("http://testserver", "reg-counsellor", http=idp))
    insured = rtw_state(gw.platform).sandbox.cast.insured

    rtw = gw.return_to_work
    dossier, _ = rtw.dossiers.open(coordinator, insured)
    form = rtw.forms.fill(coordinator, FillForm(
        dossier.id, "insurer", date(2025, 3, 3), expectations="A training as a logistics planner",
        work_problems="Cannot carry loads any more", coordinator_name="An Peeters"))
    as_insurer = rtw.forms.read(coordinator, form.id)
    as_counsellor = rtw.forms.read(counsellor, form.id)
    result = {
        "dossier": dossier.id, "insurer": dossier.insurer.name if dossier.insurer else None,
        "employers": [e.employer_name for e in dossier.employers], "trio_dossier": dossier.trio_dossier,
        "insurer_sees_start": as_insurer.incapacity_start, "counsellor_sees_start": as_counsellor.incapacity_start,
        "counsellor_sees_one_year": as_counsellor.incapacity_one_year,
    }
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    return result


if __name__ == "__main__":
    main()
