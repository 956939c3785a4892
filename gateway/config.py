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
    # The sandbox's unauthenticated conveniences (injecting a death or a NISS
    # change, the JSON mutation feed). On for the embedded sandbox; turn them
    # off (CARE_GATEWAY_SANDBOX_ACTIONS=off) wherever the data are not sandbox data.
    sandbox_actions: bool = True
    # Which eHealth platform the gateway talks to: "embedded" hosts the
    # simulated platform in the same process (the two-command default) and
    # reaches it through the same adapters and trust as a real one; otherwise
    # the base URL of the platform's services (acceptance or production), whose
    # trust anchors and endpoints come from the trust settings (gateway/trust.py).
    platform: str = "embedded"
    # Where vendors reach this gateway (and, embedded, the simulated platform
    # under /ehealth): the simulated IdP's issuer is built on it.
    public_url: str = "http://127.0.0.1:8000"
    # The embedded simulated platform's own database (never the gateway's).
    sandbox_database_url: str = field(default_factory=lambda: f"sqlite:///{Path('var') / 'sandbox-platform.sqlite3'}")
    # Bounded work per request and per client (docs/security.md): the largest
    # body the FHIR face reads; for the unauthenticated POST /conformance/validate,
    # the largest message, the most Bundle entries, the seconds a caller waits
    # for a verdict, and how many validations run at once (one per client).
    fhir_max_body: int = 4 * 1024 * 1024
    validate_max_bytes: int = 2 * 1024 * 1024
    validate_max_entries: int = 100
    validate_time_budget: float = 10.0
    validate_concurrency: int = 2
    # RP-R3: a statistics cell counting fewer requests than this (but some)
    # is suppressed before release, with whatever would let it be recomputed.
    rtw_small_cell: int = 5
    # How many calls one worker process runs at the same time (gateway/blocking.py):
    # 1 with the embedded platform; 8 to 16 against a remote platform.
    calls_at_once: int = 1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """The settings of the ``[gateway]`` table of ``CARE_GATEWAY_SETTINGS``
        (if any), each overridden by its ``CARE_GATEWAY_*`` variable."""
        env = dict(os.environ if env is None else env)
        env = {**file_settings(env.get("CARE_GATEWAY_SETTINGS", "").strip()), **env}
        base = cls()
        return replace(
            base,
            database_url=env.get("CARE_GATEWAY_DATABASE_URL", base.database_url),
            pseudonym_secret=env.get("CARE_GATEWAY_PSEUDONYM_SECRET", base.pseudonym_secret),
            sandbox_seed=int(env.get("CARE_GATEWAY_SANDBOX_SEED", base.sandbox_seed)),
            log_level=env.get("CARE_GATEWAY_LOG_LEVEL", base.log_level),
            sandbox_actions=env.get("CARE_GATEWAY_SANDBOX_ACTIONS", "on").strip().lower() not in ("off", "0", "false", "no"),
            platform=env.get("CARE_GATEWAY_PLATFORM", base.platform).strip() or "embedded",
            public_url=env.get("CARE_GATEWAY_PUBLIC_URL", base.public_url).rstrip("/"),
            sandbox_database_url=env.get("CARE_GATEWAY_SANDBOX_DATABASE_URL", base.sandbox_database_url),
            fhir_max_body=int(env.get("CARE_GATEWAY_FHIR_MAX_BODY", base.fhir_max_body)),
            validate_max_bytes=int(env.get("CARE_GATEWAY_VALIDATE_MAX_BYTES", base.validate_max_bytes)),
            validate_max_entries=int(env.get("CARE_GATEWAY_VALIDATE_MAX_ENTRIES", base.validate_max_entries)),
            validate_time_budget=float(env.get("CARE_GATEWAY_VALIDATE_TIME_BUDGET", base.validate_time_budget)),
            validate_concurrency=int(env.get("CARE_GATEWAY_VALIDATE_CONCURRENCY", base.validate_concurrency)),
            rtw_small_cell=_small_cell(env.get("CARE_GATEWAY_RTW_SMALL_CELL", str(base.rtw_small_cell))),
            calls_at_once=_at_least_one("CARE_GATEWAY_CALLS_AT_ONCE", env.get("CARE_GATEWAY_CALLS_AT_ONCE", str(base.calls_at_once))),
        )

    def with_database(self, url: str | None) -> "Settings":
        return self if not url else replace(self, database_url=url)

    @property
    def embedded_platform(self) -> bool:
        """True when the gateway hosts the simulated platform itself."""
        return self.platform == "embedded"

    @property
    def uses_sandbox_secret(self) -> bool:
        return self.pseudonym_secret == SANDBOX_PSEUDONYM_SECRET


# The [gateway] keys of the settings file, each the lower-case suffix of its
# CARE_GATEWAY_* variable (the [trust] table is read by gateway/trust.py).
FILE_KEYS = ("database_url", "pseudonym_secret", "sandbox_seed", "log_level", "sandbox_actions", "platform", "public_url",
             "sandbox_database_url", "fhir_max_body", "validate_max_bytes", "validate_max_entries",
             "validate_time_budget", "validate_concurrency", "rtw_small_cell", "calls_at_once")


def _at_least_one(name: str, value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return number


def _small_cell(value: str) -> int:
    """RP-R3's threshold: below 2 nothing would ever be suppressed."""
    try:
        threshold = int(str(value).strip())
    except ValueError:
        threshold = 0
    if threshold < 2:
        raise ValueError(f"CARE_GATEWAY_RTW_SMALL_CELL must be a whole number of at least 2 (RP-R3's small-cell "
                         f"threshold), not {value!r}")
    return threshold


class SettingsFileError(ValueError):
    """A settings file that cannot be used, said in a sentence."""


def file_settings(path: str) -> dict[str, str]:
    """``[gateway]`` of the TOML settings file as ``CARE_GATEWAY_*`` values."""
    if not path:
        return {}
    import tomllib

    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle).get("gateway", {})
    except OSError as exc:
        raise SettingsFileError(f"The settings file {path} cannot be read ({exc.strerror or exc}); check CARE_GATEWAY_SETTINGS.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsFileError(f"The settings file {path} is not valid TOML: {exc}.") from None
    if not isinstance(table, dict):
        raise SettingsFileError(f"[gateway] in {path} must be a table.")
    unknown = sorted(set(table) - set(FILE_KEYS))
    if unknown:
        raise SettingsFileError(f"[gateway] in {path} has unknown key(s) {', '.join(unknown)}; known: {', '.join(FILE_KEYS)}.")
    return {f"CARE_GATEWAY_{key.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in table.items()}
