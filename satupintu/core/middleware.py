from django.shortcuts import render

from .errors import DomainError


class DomainErrorMiddleware:
    """Pages: a domain error that escapes a view becomes a plain page with its 4xx status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return render(request, "error.html", {"error": exception}, status=exception.status)
        return None
