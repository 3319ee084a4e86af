from .selectors import UNREAD_COUNT_CAP, notification_unread_count


def unread(request):
    """`notify_unread_count` for the nav badge ("99+" past `notify_unread_cap`): a callable, so the one COUNT query runs only when
    a template shows it, and only for a signed-in person."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        if not hasattr(request, "_notify_unread"):
            request._notify_unread = notification_unread_count(actor=user)
        return request._notify_unread

    return {"notify_unread_count": count, "notify_unread_cap": UNREAD_COUNT_CAP}
