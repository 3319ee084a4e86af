from django.urls import path

from . import views

app_name = "vault"
urlpatterns = [
    path("", views.my_documents, name="list"),
    path("<uuid:uuid>/", views.open_document, name="open"),
]
