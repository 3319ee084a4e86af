"""The HTTP API under /api/v1 (django-ninja). Routers live in each app's api.py; this module
wires them, resolves the actor and turns domain errors into JSON `{code, message, details}`."""

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from satupintu.core.errors import DomainError, Forbidden, RateLimited

ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "stable, for programs (e.g. `invalid_input`, `claimed_by_other`)"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "details": {"description": "per field or item, when there is something to say", "nullable": True},
    },
}
ERROR_RESPONSES = {  # what every operation may answer, besides its own success
    400: "Masukan tidak valid (bad input; nothing was changed)",
    401: "Belum masuk, untuk operasi yang memerlukannya (not signed in, where it is needed)",
    403: "Tidak berwenang (not allowed)",
    404: "Tidak ditemukan, atau bukan milik Anda (not found, or not yours to see)",
    409: "Konflik: revisi usang, keadaan tidak mengizinkan (conflict; nothing was changed)",
    422: "Permintaan tidak sesuai skema (the request does not fit the schema)",
    429: "Terlalu banyak permintaan; lihat Retry-After (rate limited)",
}


class SatuPintuAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document also declares the error answers: every refusal of every
    operation is the same JSON `Error` (`on_domain_error` and the handlers below)."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, description in ERROR_RESPONSES.items():
                    if code not in responses and str(code) not in responses:
                        responses[code] = {"description": description, "content": error}
        return schema


api = SatuPintuAPI(
    title="SatuPintu API",
    version="1",
    description=(
        "API platform pelayanan publik terpadu (Mal Pelayanan Publik). Autentikasi: "
        "`Authorization: Bearer <token>` dari `POST /api/v1/auth/login`, atau sesi peramban."
    ),
    urls_namespace="api",
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def bearer_key(request) -> str | None:
    """The API token of an `Authorization: Bearer …` header (None without one)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def actor_of(request):
    """Who is calling: a bearer token's user, the session's user, or anonymous."""
    if hasattr(request, "_satupintu_actor"):
        return request._satupintu_actor
    from satupintu.identity.selectors import user_for_token

    key = bearer_key(request)
    user = AnonymousUser()
    if key is not None:
        user = user_for_token(key) or AnonymousUser()
    elif getattr(request, "user", None) is not None and request.user.is_authenticated:
        if request.method not in SAFE_METHODS:
            reason = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if reason is not None:
                raise Forbidden(_("Token CSRF tidak valid; gunakan token API untuk klien non-peramban."), code="csrf_failed")
        user = request.user
    request._satupintu_actor = user
    return user


@api.get("/health", auth=None, summary="Liveness: the process answers (no database access)")
def health(request):
    return {"status": "ok"}


def error_body(code: str, message: str, details=None) -> dict:
    return {"code": code, "message": message, "details": details}


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    response = api.create_response(request, error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    details = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", "")} for e in exc.errors
    ]
    return api.create_response(
        request, error_body("invalid_input", _("Permintaan tidak valid; periksa kolom yang disebut."), details), status=422
    )


@api.exception_handler(Http404)
def on_404(request, exc):
    return api.create_response(request, error_body("not_found", _("Tidak ditemukan.")), status=404)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(request, error_body("not_authenticated", _("Silakan masuk terlebih dahulu.")), status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc) == "Cannot parse request body":  # ninja's own words for bad JSON
        return api.create_response(request, error_body("invalid_json", _("Isi permintaan bukan JSON yang sah.")),
                                   status=400)
    return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)


# Django's own error pages, for what fails before the API's router answers (a path under /api/
# that no route takes, a multipart body Django's parser refuses, a crash): JSON under /api/,
# the site's pages elsewhere. Wired as handler400 … handler500 in the URLconf.
def django_error_handler(status: int):
    from django.utils.translation import gettext_lazy
    from django.views import defaults

    default, code, message = {
        400: (defaults.bad_request, "bad_request", gettext_lazy("Permintaan tidak dapat dibaca.")),
        403: (defaults.permission_denied, "forbidden", gettext_lazy("Akses ditolak.")),
        404: (defaults.page_not_found, "not_found", gettext_lazy("Tidak ditemukan.")),
        500: (defaults.server_error, "server_error", gettext_lazy("Terjadi kesalahan di server; coba lagi nanti.")),
    }[status]

    def handler(request, exception=None):
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse(error_body(code, str(message)), status=status)
        return default(request) if status == 500 else default(request, exception)

    return handler


from satupintu.cases.api import router as cases_router  # noqa: E402
from satupintu.catalog.api import router as catalog_router  # noqa: E402
from satupintu.core.api import router as calendar_router  # noqa: E402
from satupintu.identity.api import officers_router  # noqa: E402
from satupintu.identity.api import router as identity_router  # noqa: E402
from satupintu.notify.api import router as notifications_router  # noqa: E402
from satupintu.notify.api import webhooks_router  # noqa: E402
from satupintu.queueing.api import router as queue_router  # noqa: E402
from satupintu.vault.api import router as vault_router  # noqa: E402

api.add_router("/auth", identity_router)
api.add_router("/officers", officers_router)
api.add_router("/calendar", calendar_router)
api.add_router("/queue", queue_router)
api.add_router("/", cases_router)
api.add_router("/", vault_router)
api.add_router("/notifications", notifications_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/", catalog_router)
