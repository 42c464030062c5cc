"""Server-side pages for every service: Jinja2 templates, languages, time, browser assets.

Simplified Chinese by default; ``?lang=en`` (or ``zh-CN``) switches and is remembered in
a cookie. Message catalogs are Babel ``.po`` files compiled in memory at start. Times
are shown in China Standard Time. Browser assets come from ``frontend/node_modules``,
installed at set-up from pinned npm packages; nothing is loaded from another host.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "lang"
COMMON = Path(__file__).parent
ROOT = COMMON.parents[1]
VENDOR = {
    # URL name -> file of an installed npm package (frontend/package.json pins them)
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "china.json": "echarts-4-china-map/map/json/china.json",
}
CATALOGS = web.AppKey("catalogs", dict)
LOCALE = web.RequestKey("locale", str)


def language(lang: str | None) -> str | None:
    """The supported language a ``lang`` value names ('zh-CN', 'zh_cn', 'en-GB'...)."""
    if not lang:
        return None
    try:
        loc = Locale.parse(lang.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return "en" if loc.language == "en" else "zh_CN" if loc.language == "zh" else None


def choose(request: web.Request) -> str:
    return (language(request.query.get("lang")) or language(request.cookies.get(COOKIE))
            or DEFAULT)


def load_catalogs(dirs: Sequence[Path]) -> dict[str, NullTranslations]:
    """Per language, the messages of every ``dirs/<lang>/LC_MESSAGES/messages.po``."""
    out: dict[str, NullTranslations] = {"en": NullTranslations()}  # msgids are English
    for lang in LANGUAGES:
        if lang == "en":
            continue
        merged = Translations()
        for d in dirs:
            po = d / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                with po.open("rb") as f:
                    catalog = read_po(f, locale=lang)
                buf = io.BytesIO()
                write_mo(buf, catalog)
                buf.seek(0)
                merged.merge(Translations(buf))
        out[lang] = merged
    return out


def china_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(CHINA).strftime(fmt)


def setup(app: web.Application, templates: Path, locales: Path) -> None:
    """Templates of ``templates`` (then common ones), catalogs of ``locales`` (and common)."""
    app[CATALOGS] = load_catalogs([COMMON / "locale", locales])
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader([templates, COMMON / "templates"]),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[_context], undefined=jinja2.StrictUndefined,
    )
    env.filters["china_time"] = china_time
    app.middlewares.append(_remember_language)
    app.router.add_get("/static/vendor/{name}", _vendor)
    app.router.add_static("/static/common", COMMON / "static")


async def _context(request: web.Request) -> dict[str, Any]:
    lang = request.get(LOCALE) or choose(request)
    tr: NullTranslations = request.app[CATALOGS][lang]
    return {"_": tr.gettext, "ngettext": tr.ngettext, "lang": lang,
            "html_lang": "zh-CN" if lang == "zh_CN" else "en", "languages": LANGUAGES,
            "path": request.path, "now": dt.datetime.now(CHINA)}


def gettext(request: web.Request) -> Callable[[str], str]:
    tr: NullTranslations = request.app[CATALOGS][request.get(LOCALE) or choose(request)]
    return tr.gettext


@web.middleware
async def _remember_language(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    request[LOCALE] = choose(request)
    response: web.StreamResponse = await handler(request)
    asked = language(request.query.get("lang"))
    if asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


async def _vendor(request: web.Request) -> web.StreamResponse:
    rel = VENDOR.get(request.match_info["name"])
    path = ROOT / "frontend" / "node_modules" / rel if rel else None
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
