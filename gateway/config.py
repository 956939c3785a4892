"""Settings, from the environment (``CARE_GATEWAY_*``) or the command line.

With nothing set the gateway runs on its embedded default: SQLite in
``./var/care-gateway.sqlite3`` with the sandbox data of the simulated
eHealth platform.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

SANDBOX_PSEUDONYM_SECRET = "care-gateway-sandbox-pseudonym-key"
DEFAULT_SANDBOX_SEED = 2026


def default_database_url() -> str:
    return f"sqlite:///{Path('var') / 'care-gateway.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    pseudonym_secret: str = SANDBOX_PSEUDONYM_SECRET
    sandbox_seed: int = DEFAULT_SANDBOX_SEED
    max_page_size: int = 100
    default_page_size: int = 20
    log_level: str = "INFO"
    # Where the access policy asks its facts (links, memberships, affiliation):
    # "registries" reads the sandbox registries directly; "in-process" sends each
    # question as a signed SAML exchange to the simulated attribute authority;
    # an https:// URL asks a remote attribute authority.
    attribute_authority: str = "registries"
    # The sandbox's unauthenticated conveniences (injecting a death or a NISS
    # change, the JSON mutation feed). On for the embedded sandbox; turn them
    # off (CARE_GATEWAY_SANDBOX_ACTIONS=off) wherever the data are not sandbox data.
    sandbox_actions: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        base = cls()
        return replace(
            base,
            database_url=env.get("CARE_GATEWAY_DATABASE_URL", base.database_url),
            pseudonym_secret=env.get("CARE_GATEWAY_PSEUDONYM_SECRET", base.pseudonym_secret),
            sandbox_seed=int(env.get("CARE_GATEWAY_SANDBOX_SEED", base.sandbox_seed)),
            log_level=env.get("CARE_GATEWAY_LOG_LEVEL", base.log_level),
            attribute_authority=env.get("CARE_GATEWAY_ATTRIBUTE_AUTHORITY", base.attribute_authority),
            sandbox_actions=env.get("CARE_GATEWAY_SANDBOX_ACTIONS", "on").strip().lower() not in ("off", "0", "false", "no"),
        )

    def with_database(self, url: str | None) -> "Settings":
        return self if not url else replace(self, database_url=url)

    @property
    def uses_sandbox_secret(self) -> bool:
        return self.pseudonym_secret == SANDBOX_PSEUDONYM_SECRET
