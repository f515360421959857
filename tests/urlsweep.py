"""Walks the URL resolver: every route, its view, and a concrete sample path."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

CONVERTER_SAMPLES = {
    "int": "1",
    "str": "1",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "sample",
}


@dataclass(frozen=True)
class Route:
    path: str  # a concrete path to request
    name: str  # namespace:name, or the pattern when unnamed
    callback: object


def _concrete(pattern: str) -> str:
    """Turn a route or regex fragment into a concrete sample path."""
    text = pattern.lstrip("^").rstrip("$")

    # (?P<name>alt1|alt2) -> alt1 ; (?P<name>...) -> 1
    def group(m):
        body = m.group(2)
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "1"

    # Innermost named groups first; admin's app_list regex nests none.
    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, text)
    # <conv:name> and <name> (path converters)
    text = re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: CONVERTER_SAMPLES.get(m.group(1) or "str", "1"),
        text,
    )

    return text.replace("\\", "")


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str):
        for item in patterns:
            if isinstance(item, URLResolver):
                ns = namespace
                if item.namespace:
                    ns = f"{namespace}:{item.namespace}" if namespace else item.namespace
                walk(item.url_patterns, prefix + _concrete(str(item.pattern)), ns)
            elif isinstance(item, URLPattern):
                name = item.name or str(item.pattern)
                full = f"{namespace}:{name}" if namespace else name
                routes.append(
                    Route("/" + prefix + _concrete(str(item.pattern)), full, item.callback)
                )

    walk(get_resolver().url_patterns, "", "")
    return routes
