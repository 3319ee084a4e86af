"""Today's date at the site: the day the SLA clock reads. One function so tests can move time."""

from datetime import date

from satupintu.core.clock import site_today


def today(site) -> date:
    return site_today(site)
