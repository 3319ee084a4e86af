from django.conf import settings


def site(request):
    from satupintu.catalog.selectors import site_current

    return {"site": site_current(), "SATUPINTU_SEARCH_MAX_QUERY": settings.SATUPINTU_SEARCH_MAX_QUERY}
