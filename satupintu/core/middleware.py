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


class RejectNulMiddleware:
    """A NUL character has no place in any field here, and PostgreSQL refuses to store or even
    compare it: answer 400 at the door instead of a 500 deep inside. In a multipart body only
    the text fields are looked at (the files are binary and are checked by their own code)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest, JsonResponse
        from django.utils.translation import gettext as _

        suspicious = "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")
        content_type = request.META.get("CONTENT_TYPE", "")
        if not suspicious and request.method in ("POST", "PUT", "PATCH"):
            if content_type.startswith("multipart/"):
                suspicious = any("\x00" in value for _name, values in request.POST.lists() for value in values)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                body = request.body
                suspicious = b"\x00" in body or b"%00" in body
            else:  # JSON: a \u0000 escape (not an escaped backslash followed by "u0000")
                body = request.body
                suspicious = b"\x00" in body or JSON_NUL.search(body) is not None
        if suspicious:
            message = _("Permintaan berisi karakter NUL yang tidak diizinkan.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_input", "message": message, "details": None}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
