from django.urls import path

from . import views

app_name = "queueing"
urlpatterns = [
    path("kiosk/", views.kiosk, name="kiosk"),
    path("tiket/<str:code>/", views.ticket_page, name="ticket"),
    path("loket/<str:counter>/", views.counter_panel, name="counter"),
    path("layar/", views.display, name="display"),
    path("layar/events/", views.display_events, name="display_events"),
    path("reservasi/", views.booking_page, name="booking"),
    path("reservasi/<str:code>/", views.booking_detail, name="booking_detail"),
    path("statistik/", views.stats_page, name="stats"),
]
