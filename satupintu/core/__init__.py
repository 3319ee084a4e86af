"""Shared kernel of SatuPintu: who acts (actor and permissions), the audit log, the working-day
calendar (*hari kerja*) and the errors every app raises.

Nothing here knows about a particular public service; every other app leans on it.
"""
