"""Pipelines and stages: the default pipeline, stage rules, one default, deletions, roles."""

from valar.core.policy import Access, Role, decide
from valar.core.testing import ApiTestCase
from valar.core.testing.resources import TenantFixtureMixin
from valar.crm.models import Deal, Pipeline, Stage
from valar.crm.services import customer_create
from valar.organizations.models import Membership
from valar.organizations.services import organization_create

PIPELINES = "/api/v1/crm/pipelines/"
STAGES = "/api/v1/crm/stages/"
DEFAULT_STAGES = [
    ("Lead", 1, 10, False, False),
    ("Qualified", 2, 25, False, False),
    ("Proposal", 3, 50, False, False),
    ("Negotiation", 4, 75, False, False),
    ("Won", 5, 100, True, False),
    ("Lost", 6, 0, False, True),
]


def stages_body(*orders: int) -> list[dict]:
    """Inline stages with the given orders (the last one won)."""
    return [
        {"name": f"Step {order}", "order": order, "probability": min(order * 10, 100)}
        for order in orders
    ]


class PipelineCaseMixin(TenantFixtureMixin):
    """The organization's default pipeline and an admin client."""

    module = "crm"

    def setUp(self) -> None:
        """Find the default pipeline."""
        super().setUp()
        self.default = Pipeline.objects.get(organization=self.org, is_default=True)
        self.admin = self.clients[Role.ADMIN]

    def create(self, name: str, stages=None, role: str = Role.ADMIN, **extra):
        """POST a pipeline."""
        data = {"name": name, "stages": stages_body(1, 2) if stages is None else stages, **extra}
        return self.clients[role].post(PIPELINES, data, format="json")

    def default_names(self) -> list[str]:
        """Names of the organization's default pipelines."""
        return list(
            Pipeline.objects.filter(organization=self.org, is_default=True).values_list(
                "name", flat=True
            )
        )

    def add_deal(self, stage: Stage) -> Deal:
        """An open deal in ``stage``."""
        customer = customer_create(organization=self.org, name="Buyer")
        return Deal.objects.create(
            organization=self.org,
            title="Deal",
            customer=customer,
            currency="USD",
            pipeline=stage.pipeline,
            stage=stage,
            probability=stage.probability,
        )


class DefaultPipelineTests(PipelineCaseMixin, ApiTestCase):
    """Every new organization starts with the same sales pipeline."""

    def test_a_new_organization_has_the_default_pipeline_with_six_stages(self):
        for organization in (self.org, self.other):
            with self.subTest(organization=organization.name):
                pipeline = Pipeline.objects.get(organization=organization)
                self.assertEqual((pipeline.name, pipeline.is_default), ("Sales", True))
                self.assertEqual(
                    list(
                        pipeline.stages.order_by("order").values_list(
                            "name", "order", "probability", "is_won", "is_lost"
                        )
                    ),
                    DEFAULT_STAGES,
                )
                self.assertEqual(
                    set(pipeline.stages.values_list("organization", flat=True)),
                    {organization.pk},
                )

    def test_an_organization_created_through_the_api_gets_it_too(self):
        response = self.admin.post("/api/v1/organizations/", {"name": "Third"}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        pipeline = Pipeline.objects.get(organization_id=response.json()["id"])
        self.assertEqual(pipeline.stages.count(), 6)

    def test_the_api_shows_the_default_pipeline_and_its_ordered_stages(self):
        body = self.clients[Role.BASIC].get(PIPELINES).json()
        self.assertEqual(body["count"], 1)
        row = body["results"][0]
        self.assertEqual(
            (row["id"], row["name"], row["is_default"]), (str(self.default.pk), "Sales", True)
        )
        self.assertEqual(
            [
                (s["name"], s["order"], s["probability"], s["is_won"], s["is_lost"])
                for s in row["stages"]
            ],
            DEFAULT_STAGES,
        )

    def test_organization_create_gives_each_organization_its_own_default(self):
        third = organization_create(name="Third", actor=self.users[Role.MANAGER])
        self.assertEqual(
            Pipeline.objects.filter(is_default=True).values("organization").distinct().count(), 3
        )
        self.assertEqual(Stage.objects.filter(organization=third).count(), 6)


class PipelineWriteTests(PipelineCaseMixin, ApiTestCase):
    """Creating pipelines with stages and the rules they must follow."""

    def test_a_pipeline_is_created_with_its_stages(self):
        stages = [
            {"name": "Talk", "order": 2, "probability": 30},
            {"name": "Start", "order": 1, "probability": 5},
            {"name": "Signed", "order": 3, "probability": 100, "is_won": True},
            {"name": "Dropped", "order": 4, "probability": 0, "is_lost": True},
        ]
        response = self.create("Partners", stages)
        self.assertEqual(response.status_code, 201, response.content)
        pipeline = Pipeline.objects.get(pk=response.json()["id"])
        self.assertFalse(pipeline.is_default)
        self.assertEqual(pipeline.created_by, self.users[Role.ADMIN])
        self.assertEqual(
            list(pipeline.stages.values_list("name", "order", "probability", "is_won", "is_lost")),
            [
                ("Start", 1, 5, False, False),
                ("Talk", 2, 30, False, False),
                ("Signed", 3, 100, True, False),
                ("Dropped", 4, 0, False, True),
            ],
        )
        self.assertEqual(
            [s["name"] for s in response.json()["stages"]], ["Start", "Talk", "Signed", "Dropped"]
        )
        self.assertEqual(self.default_names(), ["Sales"])

    def test_a_repeated_stage_order_is_400(self):
        self.assert_problem(self.create("Dup", stages_body(1, 2, 2)), 400, field="stages")
        self.assertFalse(Pipeline.objects.filter(name="Dup").exists())

    def test_a_stage_both_won_and_lost_is_400(self):
        stages = [{"name": "Odd", "order": 1, "probability": 50, "is_won": True, "is_lost": True}]
        self.assert_problem(self.create("Odd", stages), 400, field="stages")
        self.assertFalse(Pipeline.objects.filter(name="Odd").exists())

    def test_a_pipeline_needs_stages_and_a_unique_name(self):
        self.assert_problem(self.create("Empty", []), 400, field="stages")
        missing = self.admin.post(PIPELINES, {"name": "No stages"}, format="json")
        self.assert_problem(missing, 400, field="stages")
        self.assert_problem(self.create("Sales"), 409, code="duplicate")
        self.assertEqual(Pipeline.objects.filter(organization=self.org).count(), 1)

    def test_invalid_inline_stages_are_400(self):
        bad = [{"name": "Over", "order": 1, "probability": 101}]
        self.assert_problem(self.create("Bad", bad), 400, field="stages.0.probability")
        self.assertFalse(Pipeline.objects.filter(name="Bad").exists())

    def test_a_new_default_pipeline_unsets_the_old_one(self):
        response = self.create("Enterprise", is_default=True)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.default_names(), ["Enterprise"])
        self.assertTrue(Pipeline.objects.get(organization=self.other).is_default)

    def test_making_a_pipeline_the_default_unsets_the_old_one(self):
        pipeline_id = self.create("Enterprise").json()["id"]
        response = self.admin.patch(
            f"{PIPELINES}{pipeline_id}/", {"is_default": True}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()["is_default"])
        self.assertEqual(self.default_names(), ["Enterprise"])
        rows = self.admin.get(PIPELINES).json()["results"]
        self.assertEqual(
            [(r["name"], r["is_default"]) for r in rows], [("Enterprise", True), ("Sales", False)]
        )

    def test_the_default_cannot_stop_being_the_default_directly(self):
        response = self.admin.patch(
            f"{PIPELINES}{self.default.pk}/", {"is_default": False}, format="json"
        )
        self.assert_problem(response, 409, code="default_required")
        self.assertEqual(self.default_names(), ["Sales"])

    def test_a_pipeline_can_be_renamed(self):
        response = self.admin.patch(
            f"{PIPELINES}{self.default.pk}/", {"name": "Direct"}, format="json"
        )
        self.assertEqual(response.json()["name"], "Direct")
        self.assertEqual(self.default_names(), ["Direct"])

    def test_deleting_the_default_pipeline_is_409(self):
        self.assert_problem(
            self.admin.delete(f"{PIPELINES}{self.default.pk}/"), 409, code="default_required"
        )
        self.assertTrue(Pipeline.objects.filter(pk=self.default.pk).exists())

    def test_deleting_a_pipeline_with_deals_is_409_and_without_deals_204(self):
        pipeline = Pipeline.objects.get(pk=self.create("Spare").json()["id"])
        deal = self.add_deal(pipeline.stages.get(order=1))
        self.assert_problem(self.admin.delete(f"{PIPELINES}{pipeline.pk}/"), 409, code="in_use")
        self.assertEqual(pipeline.stages.count(), 2)
        deal.delete()
        self.assertEqual(self.admin.delete(f"{PIPELINES}{pipeline.pk}/").status_code, 204)
        self.assertFalse(Stage.objects.filter(pipeline_id=pipeline.pk).exists())


class PipelineStageIdTests(PipelineCaseMixin, ApiTestCase):
    """A pipeline's nested stages carry their ids, so a client can move a deal to one."""

    def test_the_stages_read_from_a_pipeline_have_ids_a_deal_can_move_to(self):
        deal = self.add_deal(self.default.stages.get(order=1))
        body = self.admin.get(f"{PIPELINES}{self.default.pk}/").json()
        ids = [stage["id"] for stage in body["stages"]]
        self.assertEqual(ids, [str(s.pk) for s in self.default.stages.order_by("order")])
        response = self.admin.post(
            f"/api/v1/crm/deals/{deal.pk}/move-stage/", {"stage": ids[1]}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["stage"], ids[1])

    def test_a_created_pipeline_answers_its_stage_ids_and_ignores_ids_sent(self):
        stages = [
            {**stage, "id": "00000000-0000-0000-0000-000000000001"} for stage in stages_body(1, 2)
        ]
        body = self.create("With ids", stages=stages).json()
        created = Pipeline.objects.get(pk=body["id"])
        self.assertEqual(
            [stage["id"] for stage in body["stages"]],
            [str(s.pk) for s in created.stages.order_by("order")],
        )


class StageWriteTests(PipelineCaseMixin, ApiTestCase):
    """``crm/stages/``: unique order per pipeline, never won and lost, kept while in use."""

    def test_a_stage_is_added_to_a_pipeline(self):
        data = {"pipeline": str(self.default.pk), "name": "Demo", "order": 7, "probability": 40}
        response = self.admin.post(STAGES, data, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.default.stages.count(), 7)

    def test_a_repeated_order_is_409_duplicate(self):
        data = {"pipeline": str(self.default.pk), "name": "Dup", "order": 3, "probability": 40}
        response = self.admin.post(STAGES, data, format="json")
        self.assert_problem(response, 409, field="order", code="duplicate")
        stage = self.default.stages.get(order=1)
        response = self.admin.patch(f"{STAGES}{stage.pk}/", {"order": 2}, format="json")
        self.assert_problem(response, 409, field="order", code="duplicate")
        stage.refresh_from_db()
        self.assertEqual(stage.order, 1)
        other_pipeline = self.create("Second").json()["id"]
        data["pipeline"] = other_pipeline
        self.assertEqual(self.admin.post(STAGES, data, format="json").status_code, 201)

    def test_a_stage_both_won_and_lost_is_400(self):
        data = {
            "pipeline": str(self.default.pk),
            "name": "Odd",
            "order": 9,
            "probability": 40,
            "is_won": True,
            "is_lost": True,
        }
        self.assert_problem(self.admin.post(STAGES, data, format="json"), 400, field="is_lost")
        won = self.default.stages.get(is_won=True)
        response = self.admin.patch(f"{STAGES}{won.pk}/", {"is_lost": True}, format="json")
        self.assert_problem(response, 400, field="is_lost")
        won.refresh_from_db()
        self.assertFalse(won.is_lost)

    def test_a_stage_of_another_organizations_pipeline_is_refused(self):
        theirs = Pipeline.objects.get(organization=self.other)
        data = {"pipeline": str(theirs.pk), "name": "Sneak", "order": 9, "probability": 40}
        self.assert_problem(self.admin.post(STAGES, data, format="json"), 400, field="pipeline")
        self.assertEqual(theirs.stages.count(), 6)

    def test_deleting_a_stage_with_deals_is_409_and_without_deals_204(self):
        stage = self.default.stages.get(order=2)
        deal = self.add_deal(stage)
        self.assert_problem(self.admin.delete(f"{STAGES}{stage.pk}/"), 409, code="in_use")
        self.assertTrue(Stage.objects.filter(pk=stage.pk).exists())
        deal.delete()
        self.assertEqual(self.admin.delete(f"{STAGES}{stage.pk}/").status_code, 204)

    def test_the_stage_list_filters_by_pipeline(self):
        second = self.create("Second").json()["id"]
        rows = self.admin.get(STAGES, {"pipeline": second}).json()["results"]
        self.assertEqual([row["name"] for row in rows], ["Step 1", "Step 2"])


class PipelineRoleTests(PipelineCaseMixin, ApiTestCase):
    """Who may write pipelines, as the policy table says (workers may create, not change)."""

    def test_the_policy_table_lets_workers_create_but_not_change_others_pipelines(self):
        modules = ["crm"]
        table = {
            role: {
                action: decide(role=role, modules=modules, module="crm", action=action)
                for action in ("create", "change", "delete")
            }
            for role in (Role.ADMIN, Role.MANAGER, Role.WORKER, Role.BASIC)
        }
        self.assertEqual(table[Role.WORKER]["create"], Access.ALL)
        self.assertEqual(table[Role.WORKER]["change"], Access.OWN)
        self.assertEqual(table[Role.BASIC]["create"], Access.NONE)
        self.assertEqual(table[Role.MANAGER]["delete"], Access.ALL)

    def test_writes_by_role(self):
        self.assertEqual(self.create("By manager", role=Role.MANAGER).status_code, 201)
        self.assertEqual(self.create("By worker", role=Role.WORKER).status_code, 201)
        self.assertEqual(self.create("By basic", role=Role.BASIC).status_code, 403)
        self.assertFalse(Pipeline.objects.filter(name="By basic").exists())
        manager_made = Pipeline.objects.get(name="By manager")
        worker_made = Pipeline.objects.get(name="By worker")
        worker = self.clients[Role.WORKER]
        url = f"{PIPELINES}{manager_made.pk}/"
        self.assertEqual(worker.patch(url, {"name": "Mine now"}, format="json").status_code, 403)
        self.assertEqual(worker.delete(url).status_code, 403)
        own = f"{PIPELINES}{worker_made.pk}/"
        self.assertEqual(worker.patch(own, {"name": "Worker's"}, format="json").status_code, 200)
        self.assertEqual(self.clients[Role.MANAGER].delete(url).status_code, 204)
        basic = self.clients[Role.BASIC]
        self.assertEqual(basic.patch(own, {"name": "Basic's"}, format="json").status_code, 403)
        self.assertEqual(basic.get(f"{PIPELINES}{self.default.pk}/funnel/").status_code, 200)
        self.assertEqual(Pipeline.objects.get(pk=worker_made.pk).name, "Worker's")

    def test_a_member_without_the_crm_module_sees_no_pipelines(self):
        Membership.objects.filter(user=self.users[Role.MANAGER], organization=self.org).update(
            modules=[]
        )
        self.assertEqual(self.clients[Role.MANAGER].get(PIPELINES).status_code, 403)
