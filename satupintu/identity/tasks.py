"""Background work of identity. Run the worker with `manage.py db_worker --no-reload`."""

from django.tasks import task


@task()
def send_password_reset(email: str, language: str, ip: str = "") -> int:
    """The password-reset e-mail for `email`, if it belongs to an active account. Queued for
    every request, known address or not, so that the request takes as long either way; the
    link's token is made here, so it is never stored with the task. `ip`: the client address
    that asked (tasks queued before it was passed have none). Returns the e-mails sent."""
    from . import services

    return services.password_reset_send(email=email, language=language, ip=ip)
