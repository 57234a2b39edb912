"""Plain-language strings in en, fr, ko and ja: one JSON catalog per language in i18n/."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("en", "fr", "ko", "ja")
DEFAULT = "en"


@cache
def catalog(language: str) -> dict[str, str]:
    text = resources.files("veil.server").joinpath("i18n", f"{language}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"i18n catalog {language} is not a mapping")
    return {str(k): str(v) for k, v in data.items()}


def translate(language: str, key: str, **values: object) -> str:
    """The string for `key` in `language` (English when missing), with {name} fields filled in."""
    text = catalog(language).get(key) or catalog(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def pick(user_language: str | None, accept_language: str | None) -> str:
    """The user's own setting when it is not the default (English is every account's default, so
    it says nothing), else the best of Accept-Language, else the user's setting or English."""
    if user_language in LANGUAGES and user_language != DEFAULT:
        return str(user_language)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, index, base))
    return sorted(ranked)[0][2] if ranked else DEFAULT
