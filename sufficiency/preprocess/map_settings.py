"""``[map]`` of the run TOML: an optional basemap for the plan map (absent = no basemap).

A council may point the map at a tile server (its own, or a provider's with a key). The
URL must be https, name one host (no ``{s}`` subdomains) and hold ``{z}``, ``{x}`` and
``{y}``; the page's Content-Security-Policy then allows images from that host only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sufficiency.preprocess.tomlread import TomlReader

MAP_KEYS = {"tile_url", "attribution"}
TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\Z")
# Characters that could end a CSP source, a JS string or an HTML attribute, or hide a host.
_UNSAFE = re.compile(r"[\s\"'<>\\`;,^|]")
_FIX = ('write e.g. tile_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png" '
        "(https, one host, with {z}, {x} and {y})")


@dataclass(frozen=True)
class MapSettings:
    """The map's optional basemap: an XYZ tile URL and its attribution (None: no basemap)."""

    tile_url: str | None = None
    attribution: str | None = None

    @property
    def tile_origin(self) -> str | None:
        """``https://host[:port]`` of the tiles: the only remote source the page may use."""
        if self.tile_url is None:
            return None
        parts = urlsplit(self.tile_url)
        return f"https://{parts.netloc.lower()}"


def tile_url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable tile URL, or None when it is."""
    if _UNSAFE.search(url):
        return "contains a space, quote, bracket, backslash, ';' or ','"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme != "https":
        return "is not an https:// URL"
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "carries a user name or password"
    if "{" in parts.netloc:
        return "has a placeholder in its host (e.g. {s}); name one host"
    if not _HOST.match(host) or (port is not None and not 0 < port < 65536):
        return f"has no usable host name ({host!r})"
    missing = [p for p in TILE_PLACEHOLDERS if p not in url]
    if missing:
        return f"lacks {', '.join(missing)}"
    other = sorted(set(re.findall(r"\{[^}]*\}", url)) - set(TILE_PLACEHOLDERS))
    if other:
        return f"has placeholders other than {{z}}, {{x}}, {{y}}: {', '.join(other)}"
    return None


def read_map(reader: TomlReader, data: dict[str, Any]) -> MapSettings:
    """``[map]``: checked tile URL and attribution; absent or empty = no basemap (v1)."""
    table = reader.table(data, "map", "", MAP_KEYS)
    if not table:
        return MapSettings()
    url = reader.text(table, "tile_url", "map.")
    attribution = reader.text(table, "attribution", "map.", None)
    if url is not None and attribution is None and "attribution" not in table:
        reader.problem("map.attribution", "required with tile_url: tile providers ask for it",
                       'add e.g. attribution = "\u00a9 OpenStreetMap contributors"')
    if url is None:
        return MapSettings()
    problem = tile_url_problem(url)
    if problem is not None:
        reader.problem("map.tile_url", f"{url!r} {problem}", _FIX)
        return MapSettings()
    return MapSettings(tile_url=url, attribution=attribution)
