"""Routes of the console: ``/app/`` only (the page routes itself after ``#``)."""

from django.urls import path

from valar.console import views

app_name = "console"

urlpatterns = [
    path("", views.console, name="index"),
]
