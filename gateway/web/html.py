"""What the HTML pages people read share: the page skeleton
(``page.html``), its stylesheet (``site.css``), their Content Security
Policy, and escaping helpers.

The pages are written on the server with every value escaped here, so a
name, a claim or an error message is only ever text; they load one
stylesheet from their own origin and no script (the policy forbids both
scripts and other origins), so they work on machines without internet and
with the keyboard alone.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Iterable

from starlette.responses import Response

WEB = Path(__file__).parent
STYLESHEET = "site.css"
# No script at all; forms post to this origin only; nothing may frame the pages.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")


def esc(value: object) -> str:
    """A value as HTML text (``None`` as nothing)."""
    return "" if value is None else escape(str(value), quote=True)


def link(href: str, text: object | None = None, **attributes: str) -> str:
    extra = "".join(f' {name.rstrip("_").replace("_", "-")}="{esc(value)}"' for name, value in attributes.items())
    return f'<a href="{esc(href)}"{extra}>{esc(href if text is None else text)}</a>'


def code(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def table(caption: str, headers: Iterable[str], rows: Iterable[Iterable[str]], *, id: str | None = None) -> str:
    """A table whose cells are HTML already (escape values with :func:`esc`)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    ident = f' id="{esc(id)}"' if id else ""
    return f"<table{ident}><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definitions(items: Iterable[tuple[str, str]]) -> str:
    """A ``<dl>`` of (term, HTML description) pairs."""
    return "<dl>" + "".join(f"<dt>{esc(term)}</dt><dd>{value}</dd>" for term, value in items) + "</dl>"


def page(title: str, body: str, stylesheet: str, *, status: int = 200) -> Response:
    """A whole page, with the pages' security policy."""
    text = Template((WEB / "page.html").read_text(encoding="utf-8")).substitute(
        title=esc(title), stylesheet=esc(stylesheet), body=body)
    return Response(text, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": PAGE_POLICY})


def stylesheet() -> Response:
    return Response((WEB / STYLESHEET).read_bytes(), media_type="text/css; charset=utf-8")
