"""Who is told what when an application moves: the applicant (in-app + email), the officers
whose inbox gets a new stage, the agency head and mall administrators on escalation, and the
agencies' systems through webhooks. Called inside the deciding transaction; sending happens
after commit in background tasks, so a failed send never undoes a decision."""

from django.urls import reverse

from satupintu.catalog.models import Agency
from satupintu.identity.models import Role, User
from satupintu.identity.selectors import officers_to_notify

from .models import StageTask


def _context(app, *, final: bool = False, **extra) -> dict:
    """The notification's context: the application's due date only while there is one (none
    before the SLA clock starts, nor while the file is back with the applicant) and never for a
    final decision (a citizen would read it as the permit's expiry). `extra` may name its own
    `due_on` (a stage's); an empty extra value is left out."""
    ctx = {"tracking_number": app.tracking_number, "service_name": app.version.name}
    if app.due_on and not final:
        ctx["due_on"] = app.due_on.isoformat()
    for key, value in extra.items():
        if value is None or value == "":
            ctx.pop(key, None)
        else:
            ctx[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return ctx


def _citizen_link(app) -> str:
    return reverse("cases:detail", args=[app.uuid])


def _officer_link(app) -> str:
    return reverse("cases:office_detail", args=[app.uuid])


def _with_agencies(tasks) -> list:
    """`tasks`, each with its agency at hand: the ones read without it get theirs in one query."""
    missing = {t.agency_id for t in tasks if not StageTask.agency.is_cached(t)}
    if missing:
        agencies = Agency.objects.in_bulk(missing)
        for t in tasks:
            if not StageTask.agency.is_cached(t):
                t.agency = agencies[t.agency_id]
    return tasks


def _webhook(app, event: str, tasks=None) -> None:
    """`tasks`: the application's stage tasks when the caller holds them (with their agency)."""
    from satupintu.notify.services import webhook_emit

    if tasks is None:
        tasks = list(StageTask.objects.filter(application=app).select_related("agency"))
    tasks = sorted(_with_agencies(tasks), key=lambda t: (t.position, t.agency_id))
    # the payload's fields are documented in docs/notifications.md ("Webhooks"): keep them in step
    webhook_emit(agency_ids={t.agency_id for t in tasks} | {app.agency_id}, event=event, payload={
        "application": str(app.uuid), "tracking_number": app.tracking_number, "service": app.service.slug,
        "status": app.status, "due_on": app.due_on.isoformat() if app.due_on else None,
        "stages": [{"stage_key": t.stage_key, "status": t.status, "agency": t.agency.slug} for t in tasks],
    })


def _message(recipients, event: str, app, link: str, *, final: bool = False, **extra):
    from satupintu.notify.services import Message

    return Message(recipients=recipients, event=event, context=_context(app, final=final, **extra), link=link, obj=app)


def _tell(actor, *messages) -> None:
    """Write the messages' notifications together (one INSERT, one email task after commit)."""
    from satupintu.notify.services import notify_batch

    notify_batch(actor=actor, messages=messages)


def _assigned(app, started, tasks=None) -> list:
    """The officers' messages when stages start (none when none does): one per started stage
    task, to the officers of its agency and role, naming that stage, its agency and its own
    deadline (a technical team of three agencies: three messages). The officers of every
    started task are read in one query; the caller writes all the messages with one INSERT.
    `tasks`: all the application's tasks, `started` among them (their agencies, when not read
    with them, are then read once for the webhook too)."""
    if not started:
        return []
    _with_agencies(tasks if tasks is not None else started)
    officers: dict[tuple[int, str], list[User]] = {}
    for user in officers_to_notify((t.agency_id, t.role) for t in started):
        officers.setdefault((user.agency_id, user.role), []).append(user)
    link, applicant_name = _officer_link(app), app.applicant.full_name
    return [_message(officers.get((t.agency_id, t.role), []), "application.stage_assigned", app, link,
                     applicant_name=applicant_name, stage_name=t.name, agency_name=t.agency.short_name,
                     due_on=t.due_on)
            for t in _with_agencies(started)]  # (already at hand when `tasks` held them)


def submitted(app, *, actor, started, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.submitted", app, _citizen_link(app)),
          *_assigned(app, started, tasks))
    _webhook(app, "application.submitted", tasks)


def resubmitted(app, *, actor, started, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.resubmitted", app, _citizen_link(app)),
          *_assigned(app, started, tasks))
    _webhook(app, "application.resubmitted", tasks)


def stage_passed(app, *, actor, task, started, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.stage_passed", app, _citizen_link(app),
                          stage_name=task.name, agency_name=task.agency.short_name),
          *_assigned(app, started, tasks))
    _webhook(app, "application.stage_passed", tasks)


def _excerpt(text: str) -> str:
    """A reason as a notification carries it: a long one is cut (with "…"); the application's
    page, which the notification links to, shows it whole."""
    from satupintu.notify.events import MAX_VALUE_LENGTH

    return text if len(text) <= MAX_VALUE_LENGTH else text[:MAX_VALUE_LENGTH - 1].rstrip() + "…"


def consent_requested(app, *, actor, code: str, minutes: int) -> None:
    """The one-time code a walk-in applicant reads out to let the filing officer use their stored
    documents: to the applicant only (no webhook: it is nobody else's business)."""
    _tell(actor, _message([app.applicant], "application.vault_consent_requested", app, _citizen_link(app),
                          tracking_number=None, code=code, minutes=str(minutes), officer_name=actor.full_name,
                          agency_name=app.agency.short_name))


def returned(app, *, actor, task, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.returned", app, _citizen_link(app), reason=_excerpt(app.return_reason),
                          stage_name=task.name, agency_name=task.agency.short_name))
    _webhook(app, "application.returned", tasks)


def approved(app, *, actor, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.approved", app, _citizen_link(app), final=True))
    _webhook(app, "application.approved", tasks)


def rejected(app, *, actor, tasks=None) -> None:
    _tell(actor, _message([app.applicant], "application.rejected", app, _citizen_link(app), final=True,
                          reason=_excerpt(app.reject_reason)))
    _webhook(app, "application.rejected", tasks)


def mall_admins() -> list[User]:
    return list(User.objects.filter(is_active=True, role=Role.MALL_ADMIN))


def agency_heads(agency_ids) -> dict[int, list[User]]:
    """The active heads of these agencies, by agency (one read for a run of escalations)."""
    heads: dict[int, list[User]] = {}
    for user in User.objects.filter(is_active=True, role=Role.HEAD, agency_id__in=set(agency_ids)).order_by("id"):
        heads.setdefault(user.agency_id, []).append(user)
    return heads


def overdue(app, *, actor, task, admins: list[User], heads: dict[int, list[User]]) -> None:
    """`admins`: the mall administrators (`mall_admins()`), `heads`: the agencies' heads
    (`agency_heads()`), each read once for a run of escalations."""
    _tell(actor, _message([*heads.get(task.agency_id, []), *admins], "application.overdue", app, _officer_link(app),
                          stage_name=task.name, agency_name=task.agency.short_name, due_on=task.due_on))
    _webhook(app, "application.overdue")
