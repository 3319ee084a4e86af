from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from satupintu.core.errors import DomainError
from satupintu.core.http import client_ip, int_param
from satupintu.core.pagination import paginate
from satupintu.core.permissions import is_mall_admin

from . import selectors, services
from .forms import (
    LoginForm, OfficerCreateForm, OfficerEditForm, PasswordChangeForm, ProfileForm, RegisterForm, ResetRequestForm,
    ResetSetPasswordForm,
)
from .models import Role


def _apply_errors(form, exc: DomainError):
    for field, message in (exc.details or {}).items():
        form.add_error(field if field in form.fields else None, message)
    if not exc.details:
        form.add_error(None, exc.message)


def register(request):
    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.citizen_register(actor=None, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
        else:
            login(request, user, backend="satupintu.identity.backends.EmailOrPhoneBackend")
            messages.success(request, _("Akun Anda sudah dibuat. Selamat datang, %(name)s!") % {"name": user.full_name})
            return redirect("identity:profile")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/register.html", {"form": form}, status=status)


class LoginView(auth_views.LoginView):
    template_name = "identity/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def profile(request):
    me = selectors.user_me(actor=request.user)
    citizen = getattr(me, "citizen", None)
    form = ProfileForm(request.POST or None, initial={"full_name": me.full_name, "kk_number": citizen.kk_number if citizen else ""})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.citizen_profile_update(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Profil disimpan."))
            return redirect("identity:profile")
    return render(request, "identity/profile.html", {"me": me, "citizen": citizen, "facts": citizen.facts if citizen else None, "form": form}, status=status)


# ---------------------------------------------------------------------------- passwords

@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(actor=request.user, current_password=form.cleaned_data["current_password"],
                                     new_password=form.cleaned_data["new_password"])
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
        else:
            request.user.refresh_from_db()
            update_session_auth_hash(request, request.user)  # this session stays; the others end
            messages.success(request, _("Kata sandi diganti. Sesi lain akun ini berakhir."))
            return redirect("identity:profile")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/password_change.html", {"form": form}, status=status)


class PasswordResetView(auth_views.PasswordResetView):
    """"Lupa kata sandi": the link goes by e-mail (`services.password_reset_request`)."""

    template_name = "identity/password_reset.html"
    form_class = ResetRequestForm
    success_url = reverse_lazy("identity:password_reset_done")

    def form_valid(self, form):
        services.password_reset_request(email=form.cleaned_data["email"], ip=client_ip(self.request))
        return redirect(self.success_url)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "identity/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "identity/password_reset_confirm.html"
    form_class = ResetSetPasswordForm
    success_url = reverse_lazy("identity:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None  # deactivated since the link was sent


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "identity/password_reset_complete.html"


# ---------------------------------------------------------------------------- staff (/kantor/petugas/)

STATUS_FILTERS = {"aktif": True, "nonaktif": False}


def _agencies(actor):
    """The agencies the mall administrator chooses among; None for an agency admin (their own)."""
    from satupintu.catalog.selectors import agency_choices

    return list(agency_choices(actor=actor)) if is_mall_admin(actor) else None


@login_required
def staff_list(request):
    actor, g = request.user, request.GET
    qs = selectors.officer_list(actor=actor, agency=selectors.agency_named(actor=actor, key=g.get("instansi")), role=g.get("peran") or None,
                                active=STATUS_FILTERS.get(g.get("status", "")), q=g.get("q", ""))
    page = paginate(qs, page=int_param(g), page_size=25)
    roles = [(r.value, r.label) for r in Role if r != Role.CITIZEN and (r != Role.MALL_ADMIN or is_mall_admin(actor))]
    return render(request, "identity/staff_list.html", {
        "page": page, "officers": page.items, "filters": g, "agencies": _agencies(actor), "roles": roles,
    })


@login_required
def staff_create(request):
    actor = request.user
    selectors.officer_list(actor=actor)  # only those who manage officers see the form (403 otherwise)
    agencies = _agencies(actor)
    form = OfficerCreateForm(request.POST or None, agencies=agencies)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency = selectors.agency_named(actor=actor, key=data.get("agency"))
            officer = services.officer_create(actor=actor, email=data["email"], full_name=data["full_name"],
                                              role=data["role"], password=data["password"], agency=agency)
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Akun petugas %(name)s dibuat. Ia masuk dengan %(email)s.")
                             % {"name": officer.full_name, "email": officer.email})
            return redirect("staff:list")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/staff_form.html", {"form": form, "officer": None}, status=status)


@login_required
def staff_edit(request, uuid):
    actor = request.user
    officer = selectors.officer_get(actor=actor, uuid=uuid)
    own = officer.pk == actor.pk
    if not services.can_manage_officer(actor, officer):  # an agency admin looking at their head: read only
        if request.method == "POST":
            services.require_manage_officer(actor, officer)  # refuses, with the reason (403)
        return render(request, "identity/staff_form.html", {"form": None, "officer": officer, "own": own})
    initial = {"full_name": officer.full_name, "role": officer.role, "is_active": "1" if officer.is_active else "0"}
    form = OfficerEditForm(request.POST or None, initial=initial, officer=officer, own=own,
                           mall_admin=is_mall_admin(actor))
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            officer, released = services.officer_update(
                actor=actor, officer=officer, full_name=data["full_name"],
                role=None if own else data["role"], is_active=None if own else data["is_active"])
        except DomainError as exc:
            _apply_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Data petugas %(name)s disimpan.") % {"name": officer.full_name})
            if released:
                messages.info(request, ngettext(
                    "%(n)d tahap yang diambilnya dilepas dan kembali ke kotak masuk instansi.",
                    "%(n)d tahap yang diambilnya dilepas dan kembali ke kotak masuk instansi.", released) % {"n": released})
            return redirect(reverse("staff:edit", args=[officer.uuid]))
    elif request.method == "POST":
        status = 400
    return render(request, "identity/staff_form.html", {"form": form, "officer": officer, "own": own}, status=status)
