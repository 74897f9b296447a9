"""Every path to a won or lost deal is the one close: same audit rows, same notification."""

from valar.audit.models import AuditEvent
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.crm.models import Deal
from valar.crm.tests.test_deals import DEALS, DealCaseMixin
from valar.notifications.models import Notification


class DealClosePathTests(DealCaseMixin, ApiTestCase):
    """``win/``, ``lose/``, ``move-stage/`` and a PATCH of the stage close a deal alike."""

    def close_by(self, path: str, *, won: bool = True) -> tuple[list, list]:
        """Close a fresh deal (assigned to the worker, created by the admin) by ``path``.

        Returns the deal's audit rows (action and changed fields, in order) and its
        notifications (recipient, kind, level, title, link).
        """
        deal = self.deal(
            title="Big one",
            assigned_to=self.users[Role.WORKER],
            created_by=self.users[Role.ADMIN],
        )
        AuditEvent.objects.all().delete()
        stage = self.stages["Won" if won else "Lost"]
        url = f"{DEALS}{deal.pk}/"
        if path == "action":
            response = self.post(
                f"{deal.pk}/{'win' if won else 'lose'}/", {"reason": ""} if not won else {}
            )
        elif path == "move-stage":
            response = self.post(f"{deal.pk}/move-stage/", {"stage": str(stage.pk)})
        else:
            response = self.manager.patch(url, {"stage": str(stage.pk)}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        deal.refresh_from_db()
        self.assertEqual(deal.status, Deal.Status.WON if won else Deal.Status.LOST)
        self.assertEqual(deal.stage, stage)
        events = [
            (event.action, sorted(event.changes))
            for event in AuditEvent.objects.filter(object_id=str(deal.pk)).order_by("created_at")
        ]
        notes = list(
            Notification.objects.filter(link=f"/api/v1/crm/deals/{deal.pk}/")
            .order_by("user__email")
            .values_list("user__email", "kind", "level", "title")
        )
        return events, notes

    def test_a_patch_or_a_move_into_the_won_stage_is_the_win_audited_and_notified_alike(self):
        by_action = self.close_by("action")
        self.assertIn("deal.win", [action for action, _ in by_action[0]])
        self.assertEqual(
            by_action[1],
            [
                ("admin@org.test", "crm", "success", "Deal won: Big one"),
                ("worker@org.test", "crm", "success", "Deal won: Big one"),
            ],
        )
        self.assertEqual(self.close_by("patch"), by_action)
        self.assertEqual(self.close_by("move-stage"), by_action)

    def test_a_patch_into_the_lost_stage_is_the_lose_and_notifies_nobody(self):
        by_patch = self.close_by("patch", won=False)
        self.assertIn("deal.lose", [action for action, _ in by_patch[0]])
        self.assertEqual(by_patch[1], [])
        self.assertEqual(self.close_by("move-stage", won=False), by_patch)

    def test_whoever_wins_the_deal_is_not_notified_of_their_own_win(self):
        deal = self.deal(assigned_to=self.users[Role.MANAGER], created_by=self.users[Role.MANAGER])
        self.post(f"{deal.pk}/win/")
        self.assertFalse(Notification.objects.exists())

    def test_a_patch_into_the_won_stage_of_a_closed_deal_is_a_409(self):
        deal = self.deal("Lost", status=Deal.Status.LOST)
        response = self.manager.patch(
            f"{DEALS}{deal.pk}/", {"stage": str(self.stages["Won"].pk)}, format="json"
        )
        self.assert_problem(response, 409, code="already_closed")

    def test_a_deal_created_in_the_won_or_lost_stage_is_the_same_close(self):
        for stage, action, status in (("Won", "deal.win", "won"), ("Lost", "deal.lose", "lost")):
            with self.subTest(stage=stage):
                response = self.manager.post(
                    DEALS,
                    {
                        "title": f"Closed at once {stage}",
                        "customer": str(self.customer.pk),
                        "stage": str(self.stages[stage].pk),
                        "assigned_to": str(self.users[Role.WORKER].pk),
                    },
                    format="json",
                )
                self.assertEqual(response.status_code, 201, response.content)
                body = response.json()
                self.assertEqual(body["status"], status)
                self.assertIsNotNone(body["closed_at"])
                self.assertEqual(body["probability"], 100 if stage == "Won" else 0)
                actions = list(
                    AuditEvent.objects.filter(object_id=body["id"])
                    .order_by("created_at")
                    .values_list("action", flat=True)
                )
                self.assertIn(action, actions)
                notes = list(
                    Notification.objects.filter(
                        link=f"/api/v1/crm/deals/{body['id']}/"
                    ).values_list("user__email", "title")
                )
                expected = (
                    [("worker@org.test", f"Deal won: Closed at once {stage}")]
                    if stage == "Won"
                    else []
                )
                self.assertEqual(notes, expected)
