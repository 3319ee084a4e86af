from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from satupintu.core.errors import DomainError

from . import selectors, services
from .forms import LoginForm, ProfileForm, RegisterForm


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
