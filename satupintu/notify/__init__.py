"""Notifications (*pemberitahuan*): how citizens and officers are told what happened to an
application (*permohonan*) — in the app, by email — and how agency systems hear of it (webhooks).

This app owns the inbox, the email outbox state and the webhook endpoints and deliveries; it knows
nothing of applications: callers pass an event name, a small context and a link.
"""
