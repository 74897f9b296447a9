"""WebSocket routes of the notifications app."""

from django.urls import path

from valar.notifications.consumers import NotificationConsumer

websocket_urlpatterns = [path("ws/notifications/", NotificationConsumer.as_asgi())]
