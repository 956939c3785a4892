"""The sandbox login of the IdP: pick a persona, type its second-factor code.

Real eHealth authenticates with the eID or a TOTP app. The sandbox keeps
the shape of a second factor, a 6-digit code that changes every 30 s
(RFC 6238 over HMAC-SHA1), but its secret is derived from the persona and
shown on the page: the point is to exercise the flow, not to keep anyone
out. The claims come from the registries, as the real IdP's come from
CoBrHa and the organisations' user management: a persona cannot claim a
membership the attribute authority does not confirm.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING

from gateway.ehealth.oauth_clients import PublicClient
from gateway.ehealth.sandbox.personas import Persona, personas
from gateway.identity.claims import Claims
from gateway.domain.principal import Role

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

TIME_STEP = 30
DIGITS = 6
AUTHENTICATION = "otp"  # RFC 8176 amr value of the second factor
IDP_ROLES = frozenset({Role.PATIENT, Role.PROVIDER, Role.PHARMACIST, Role.PSI_ADMINISTRATIVE, Role.PSI_COORDINATOR, Role.AUDITOR,
                       Role.DPO})


class LoginRefused(ValueError):
    """The sandbox IdP will not sign this persona in (said on the page)."""


def _secret(persona_key: str) -> bytes:
    return hashlib.sha256(f"care-gateway sandbox second factor|{persona_key}".encode()).digest()


def sandbox_code(persona_key: str, at: datetime) -> str:
    """The persona's code for the 30 s step containing ``at`` (RFC 6238 / RFC 4226 truncation)."""
    counter = int(at.timestamp()) // TIME_STEP
    mac = hmac.new(_secret(persona_key), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF) % 10**DIGITS
    return f"{value:0{DIGITS}d}"


def verify_sandbox_code(persona_key: str, code: str, at: datetime) -> bool:
    """The current step's code, or the previous one (typed just as it rolled over)."""
    candidates = (sandbox_code(persona_key, at), sandbox_code(persona_key, at - timedelta(seconds=TIME_STEP)))
    return any(hmac.compare_digest(code.strip(), c) for c in candidates)


def idp_personas(platform: "Platform", client: PublicClient) -> list[Persona]:
    """The living personas this client's users may sign in as."""
    found = []
    for persona in personas(platform.registries).values():
        person = platform.register.person(persona.niss)
        if persona.role in IDP_ROLES and persona.role in client.roles and person is not None and person.death_date is None:
            found.append(persona)
    return found


def identity_claims(platform: "Platform", persona: Persona) -> Claims:
    """What the IdP asserts about a persona, each fact confirmed by the registries."""
    person = platform.register.person(persona.niss)
    if person is None or person.death_date is not None:
        raise LoginRefused("The national register does not know this person as alive.")
    name = f"{person.first_name} {person.last_name}"
    if persona.role is Role.PATIENT:
        return Claims(person.niss, Role.PATIENT, display_name=name, authentication=AUTHENTICATION)
    professional = next((p for p in platform.registries.professionals_of(person.niss) if p.nihii == persona.nihii), None)
    if persona.role is Role.PROVIDER:
        if professional is None:
            raise LoginRefused("CoBrHa does not know this person as a care professional.")
        return Claims(person.niss, Role.PROVIDER, professional.quality, professional.nihii, display_name=name,
                      authentication=AUTHENTICATION)
    held = {(m.organisation_nihii, m.role) for m in platform.facts.memberships(person.niss)}
    if (persona.organisation_nihii, persona.role.value) not in held:
        raise LoginRefused(f"The organisation's user management does not confirm the role {persona.role.value}.")
    organisation = platform.registries.organisation(persona.organisation_nihii or "")
    return Claims(
        person.niss, persona.role,
        professional.quality if professional else None, professional.nihii if professional else None,
        persona.organisation_nihii, organisation.cbe if organisation else None,
        display_name=name, authentication=AUTHENTICATION,
    )


@dataclass(frozen=True)
class LoginPage:
    client: PublicClient
    action: str
    hidden: dict[str, str]
    personas: list[Persona]
    now: datetime
    error: str | None = None
    selected: str | None = None

    def render(self) -> str:
        rows = "\n".join(self._row(p) for p in self.personas)
        options = "\n".join(
            f'<option value="{escape(p.key)}"{" selected" if p.key == self.selected else ""}>'
            f"{escape(p.key)} ({escape(p.role.value)})</option>" for p in self.personas
        )
        hidden = "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in self.hidden.items())
        error = f'<p class="error" role="alert">{escape(self.error)}</p>' if self.error else ""
        return _PAGE.format(client=escape(self.client.name), client_id=escape(self.client.client_id), error=error,
                            action=escape(self.action), hidden=hidden, options=options, rows=rows, step=TIME_STEP)

    def _row(self, p: Persona) -> str:
        code = sandbox_code(p.key, self.now)
        return (f'<tr data-persona="{escape(p.key)}"><td>{escape(p.key)}</td><td>{escape(p.role.value)}</td>'
                f"<td>{escape(p.display_name)}</td><td>{escape(p.organisation_nihii or '')}</td>"
                f'<td><code class="sandbox-code">{code}</code></td></tr>')


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sign in - eHealth IAM (sandbox)</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .2rem .5rem; }}
.error {{ color: #a00; font-weight: bold; }} .note {{ color: #555; }}
</style>
</head>
<body>
<h1>Sign in (sandbox)</h1>
<p><strong>{client}</strong> (<code>{client_id}</code>) asks you to sign in.</p>
<p class="note">This is the simulated eHealth IdP: choose a sandbox persona and type its sandbox code,
which stands for the second factor (eID or TOTP app) of the real platform. Codes change every {step} s.</p>
{error}
<form method="post" action="{action}">
{hidden}
<p><label>Persona <select name="persona" required>
{options}
</select></label></p>
<p><label>Sandbox code <input name="otp" inputmode="numeric" pattern="[0-9]{{6}}" maxlength="6" autocomplete="one-time-code" required></label></p>
<p><button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></p>
</form>
<h2>Sandbox codes</h2>
<table>
<thead><tr><th>persona</th><th>role</th><th>name</th><th>organisation</th><th>sandbox code</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
