"""Languages: ``?lang=`` beats the ``lang`` cookie, which beats the person's register language, which
beats the browser's Accept-Language; French otherwise (the country's administrative language)."""

from __future__ import annotations

from fastapi import Request

from courrier.languages import LANGUAGES

DEFAULT_LANGUAGE = "fr"


def pick_language(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate:
            language = candidate.strip().lower()[:2]
            if language in LANGUAGES:
                return language
    return DEFAULT_LANGUAGE


def request_language(request: Request, person_language: str | None = None) -> str:
    accepted = request.headers.get("accept-language", "").split(",")[0]
    return pick_language(
        request.query_params.get("lang"), request.cookies.get("lang"), person_language, accepted
    )
