import json
import re

from django.shortcuts import render

from .errors import DomainError, RateLimited


class DomainErrorMiddleware:
    """Pages: a domain error that escapes a view becomes a plain page with its 4xx status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            response = render(request, "error.html", {"error": exception}, status=exception.status)
            if isinstance(exception, RateLimited):
                response["Retry-After"] = str(exception.retry_after)
            return response
        return None


class LanguageMiddleware:
    """Bahasa Indonesia first: pages are in Indonesian unless the visitor chose English with the
    language switch (cookie). The browser's Accept-Language is not used for pages, because kiosk
    and office browsers are often set to English; API clients may ask with Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation
        from django.utils.cache import patch_vary_headers

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = None
        if chosen is None and request.path.startswith("/api/"):
            chosen = translation.get_language_from_request(request)
        language = chosen or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        response.headers.setdefault("Content-Language", language)
        return response


JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # may start a pair, or stand alone


def _lone_surrogate(body: bytes) -> bool:
    """A JSON string holding half of a UTF-16 pair (`"\\ud800"`): valid JSON, but no UTF-8 can
    carry it, so the database refuses it. Only bodies with such an escape are parsed here."""
    if JSON_SURROGATE.search(body) is None:
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON, or nested past what the parser takes: the API answers that itself
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class RejectNulMiddleware:
    """A NUL character has no place in any field here, and PostgreSQL refuses to store or even
    compare it; nor can half of a UTF-16 pair in JSON be stored: answer 400 at the door instead
    of a 500 deep inside. In a multipart body only
    the text fields are looked at (the files are binary and are checked by their own code)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest, JsonResponse
        from django.utils.translation import gettext as _

        nul = "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")
        half_pair = False
        content_type = request.META.get("CONTENT_TYPE", "")
        if not nul and request.method in ("POST", "PUT", "PATCH"):
            if content_type.startswith("multipart/"):
                nul = any("\x00" in value for _name, values in request.POST.lists() for value in values)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                body = request.body
                nul = b"\x00" in body or b"%00" in body
            else:  # JSON: a \u0000 escape (not an escaped backslash followed by "u0000")
                body = request.body
                nul = b"\x00" in body or JSON_NUL.search(body) is not None
                half_pair = not nul and _lone_surrogate(body)
        if nul or half_pair:
            message = (_("Permintaan berisi karakter NUL yang tidak diizinkan.") if nul
                       else _("Permintaan berisi karakter yang tidak sah (setengah pasangan UTF-16)."))
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_input", "message": message, "details": None}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
