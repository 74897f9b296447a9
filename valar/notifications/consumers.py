"""``ws/notifications/``: every new notification of the caller in the organization, live."""

from channels.db import database_sync_to_async

from valar.core.notify import user_group
from valar.core.sockets import TenantConsumer
from valar.notifications import selectors


class NotificationConsumer(TenantConsumer):
    """A socket of one user in one organization; every open socket of theirs gets each one.

    Server messages: ``{"type": "hello", "organization", "unread"}`` once accepted,
    ``{"type": "notification", "notification": {...}}`` for each new notification (the shape
    ``notifications/{id}/`` answers), ``{"type": "pong"}`` for a ``{"type": "ping"}``.
    """

    route = "/ws/notifications/"

    def group_names(self) -> list[str]:
        """The group of this user in this organization."""
        return [user_group(self.tenant.organization.pk, self.user.pk)]

    async def joined(self) -> None:
        """Greet with the organization and the unread count."""
        unread = await database_sync_to_async(selectors.unread_count)(
            organization=self.tenant.organization, user=self.user
        )
        await self.send_json(
            {"type": "hello", "organization": str(self.tenant.organization.pk), "unread": unread}
        )

    async def receive_json(self, content, **kwargs):
        """Answer ``ping``; anything else is an error message."""
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {"type": "error", "code": "invalid", "detail": "Unknown message type."}
            )

    async def notification_created(self, event) -> None:
        """A new notification for this user: pass it on."""
        await self.send_json({"type": "notification", "notification": event["notification"]})
