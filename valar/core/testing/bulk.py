"""Generic tests of ``POST <list>/bulk/`` and ``POST <list>/import/`` for every bulk resource.

A resource's test class mixes :class:`BulkResourceTestsMixin` into ``ApiTestCase`` and
declares ``url``, ``module``, ``make_object()``, ``create_data()``, ``update_data``,
``invalid_item`` (with the field it breaks), ``foreign_item()`` (a foreign key of another
organization) and ``import_row()``. It then gets: all or nothing on one bad item, errors by
operation and index, the same query count for 1 and 500 items of each operation, audit rows
for every item, isolation (ids and foreign keys of another organization), the role matrix
from the policy table, the 1,000-item limit, and imports (CSV and XLSX, dry run, the file's
type by content, size).
"""

import csv
import io
import itertools
from typing import Any, ClassVar

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from valar.audit.models import AuditEvent
from valar.core.policy import Access, Role, decide, owner_filter
from valar.core.testing.cases import MediaRootMixin
from valar.core.testing.resources import ROLES, TenantFixtureMixin

#: Items of the pinned query-count comparison.
MANY = 500


class BulkResourceTestsMixin(MediaRootMixin, TenantFixtureMixin):
    """The generic tests; the resource's class declares what differs."""

    url: ClassVar[str]
    update_data: ClassVar[dict[str, Any]]
    #: A create item that fails validation, and the field its error names.
    invalid_item: ClassVar[tuple[dict[str, Any], str]]

    def make_object(self, organization, index: int = 0):
        """One row of the resource in ``organization``."""
        raise NotImplementedError

    def create_data(self, index: int) -> dict[str, Any]:
        """A valid create item."""
        raise NotImplementedError

    def foreign_item(self) -> tuple[dict[str, Any], str]:
        """A create item naming a row of ``self.other`` in a foreign key, and that field."""
        raise NotImplementedError

    def import_row(self, index: int) -> dict[str, str]:
        """One valid import row: column -> text."""
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------

    @property
    def model(self):
        """The resource's model."""
        return resolve(self.url).func.cls.model

    def policy_actions(self) -> dict[str, str]:
        """The policy action of each bulk operation (the resource's own, ``create`` etc.)."""
        return dict(resolve(self.url).func.cls.bulk_resource.policy_actions)

    def bulk_url(self) -> str:
        """``<list>/bulk/``."""
        return f"{self.url}bulk/"

    def import_url(self) -> str:
        """``<list>/import/``."""
        return f"{self.url}import/"

    def bulk(self, body: dict, role: str = Role.ADMIN):
        """POST a bulk body as ``role``."""
        return self.clients[role].post(self.bulk_url(), body, format="json")

    def rows(self, organization=None):
        """The resource's rows in ``organization`` (``org`` by default)."""
        return self.model.objects.filter(organization=organization or self.org)

    def events(self, action: str | None = None):
        """The audit events of the resource's rows."""
        events = AuditEvent.objects.filter(object_type=self.model._meta.label_lower)
        return events.filter(action=action) if action else events

    def queries(self, body: dict) -> tuple[int, Any]:
        """The statements one bulk request sends, and its answer (after an untimed warm-up)."""
        self.bulk({})  # the token's last-used stamp and the cached membership, once
        with CaptureQueriesContext(connection) as captured:
            response = self.bulk(body)
        self.assertEqual(response.status_code, 200, response.content)
        return len(captured), response

    def csv_file(self, rows: list[dict[str, str]], name: str = "rows.csv") -> SimpleUploadedFile:
        """``rows`` as a CSV upload."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")

    def xlsx_file(self, rows: list[dict[str, str]], name: str = "rows.xlsx") -> SimpleUploadedFile:
        """``rows`` as an XLSX upload (numbers typed as numbers where they look like one)."""
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        header = list(rows[0])
        sheet.append(header)
        for row in rows:
            sheet.append([row[name] for name in header])
        out = io.BytesIO()
        workbook.save(out)
        return SimpleUploadedFile(name, out.getvalue(), content_type="application/octet-stream")

    def upload(self, upload, *, dry_run: bool | None = None, role: str = Role.ADMIN):
        """POST a file to ``import/``; the job it starts runs (eagerly) when the request ends."""
        data: dict[str, Any] = {"file": upload}
        if dry_run is not None:
            data["dry_run"] = "true" if dry_run else "false"
        with self.captureOnCommitCallbacks(execute=True):
            return self.clients[role].post(self.import_url(), data, format="multipart")

    def imported(self, response, *, state: str = "succeeded"):
        """The job of an import's 202, reloaded, asserted to be in ``state``."""
        from valar.jobs.models import Job

        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertEqual(response["Location"], f"http://testserver/api/v1/jobs/{body['id']}/")
        job = Job.objects.get(pk=body["id"], organization=self.org)
        self.assertEqual((job.kind, job.state), ("imports.file", state), job.error)
        return job

    def kept_files(self) -> list[str]:
        """The import files the storage still keeps."""
        import os

        root = os.path.join(self.media_root, "imports")
        return [name for _, _, names in os.walk(root) for name in names]

    # -- bulk -----------------------------------------------------------------------------

    def test_bulk_creates_changes_and_deletes_in_one_request_and_audits_every_item(self):
        kept, removed = self.make_object(self.org, 1), self.make_object(self.org, 2)
        before = self.events().count()
        response = self.bulk(
            {
                "create": [self.create_data(10), self.create_data(11)],
                "update": [{"id": str(kept.pk), **self.update_data}],
                "delete": [str(removed.pk)],
            }
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(len(body["created"]), 2)
        self.assertEqual([row["id"] for row in body["updated"]], [str(kept.pk)])
        self.assertEqual(body["deleted"], [str(removed.pk)])
        self.assertFalse(self.model.objects.filter(pk=removed.pk).exists())
        kept.refresh_from_db()
        for name, value in self.update_data.items():
            self.assertEqual(body["updated"][0][name], value)
        created_ids = [row["id"] for row in body["created"]]
        self.assertEqual(self.rows().filter(pk__in=created_ids).count(), 2)
        self.assertEqual(
            set(
                self.events("create")
                .filter(object_id__in=created_ids)
                .values_list("object_id", flat=True)
            ),
            set(created_ids),
        )
        update = self.events("update").get(object_id=str(kept.pk))
        self.assertEqual(set(self.update_data) & set(update.changes), set(self.update_data))
        self.assertEqual(update.actor, self.users[Role.ADMIN])
        self.assertTrue(self.events("delete").filter(object_id=str(removed.pk)).exists())
        self.assertGreaterEqual(self.events().count() - before, 4)

    def test_one_bad_item_writes_nothing(self):
        kept, removed = self.make_object(self.org, 1), self.make_object(self.org, 2)
        count, events = self.rows().count(), AuditEvent.objects.count()
        item, field = self.invalid_item
        response = self.bulk(
            {
                "create": [self.create_data(10), item],
                "update": [{"id": str(kept.pk), **self.update_data}],
                "delete": [str(removed.pk)],
            }
        )
        body = self.assert_problem(response, 400, field=f"create.1.{field}")
        self.assertEqual(set(body["errors"]), {f"create.1.{field}"})
        self.assertEqual(self.rows().count(), count)
        self.assertTrue(self.model.objects.filter(pk=removed.pk).exists())
        fresh = self.model.objects.get(pk=kept.pk)
        for name, value in self.update_data.items():
            self.assertNotEqual(str(getattr(fresh, name)), str(value))
        self.assertEqual(AuditEvent.objects.count(), events)

    def test_errors_name_each_item_by_operation_and_index(self):
        item, field = self.invalid_item
        own = self.make_object(self.org, 1)
        missing = "00000000-0000-4000-8000-000000000000"
        response = self.bulk(
            {
                "create": [self.create_data(1), self.create_data(2), item],
                "update": [{"id": missing, **self.update_data}, {**self.update_data}],
                "delete": [str(own.pk), str(own.pk), "not-a-uuid"],
            }
        )
        errors = self.assert_problem(response, 400)["errors"]
        self.assertEqual(
            set(errors),
            {
                f"create.2.{field}",
                "update.0.id",
                "update.1.id",
                "delete.1",
                "delete.2",
            },
        )
        self.assertEqual(errors["update.0.id"], ["Not found."])
        self.assertEqual(errors["delete.1"], ["This id is given more than once."])
        # A body that is not three lists of objects is refused before any item is checked.
        response = self.bulk({"create": [self.create_data(1), "not an object"]})
        self.assertEqual(set(self.assert_problem(response, 400)["errors"]), {"create.1"})
        self.assertFalse(self.rows().exclude(pk=own.pk).exists())

    def test_the_query_count_is_the_same_for_1_and_500_items(self):
        one, _ = self.queries({"create": [self.create_data(0)]})
        many, response = self.queries({"create": [self.create_data(i) for i in range(1, MANY + 1)]})
        self.assertEqual(many, one, "creating 500 rows costs more statements than creating 1")
        ids = [row["id"] for row in response.json()["created"]]
        self.assertEqual(len(ids), MANY)
        one, _ = self.queries({"update": [{"id": ids[0], **self.update_data}]})
        many, _ = self.queries({"update": [{"id": pk, **self.update_data} for pk in ids[1:]]})
        self.assertEqual(many, one, "changing 500 rows costs more statements than changing 1")
        one, _ = self.queries({"delete": ids[:1]})
        many, _ = self.queries({"delete": ids[1:]})
        self.assertEqual(many, one, "deleting 499 rows costs more statements than deleting 1")
        self.assertFalse(self.rows().filter(pk__in=ids).exists())
        for action in ("create", "update", "delete"):
            self.assertEqual(self.events(action).filter(object_id__in=ids).count(), MANY)

    def test_more_than_1000_items_are_refused_whole(self):
        body = {
            "create": [self.create_data(i) for i in range(600)],
            "delete": ["00000000-0000-4000-8000-000000000000"] * 401,
        }
        problem = self.assert_problem(self.bulk(body), 400, code="too_many_items")
        self.assertIn("1,000", problem["detail"])
        self.assertFalse(self.rows().exists())
        over = self.bulk({"create": [self.create_data(i) for i in range(1001)]})
        self.assert_problem(over, 400, field="create")

    def test_rows_of_another_organization_are_item_errors_and_are_never_touched(self):
        theirs = self.make_object(self.other, 1)
        before = {f.attname: getattr(theirs, f.attname) for f in theirs._meta.concrete_fields}
        response = self.bulk(
            {"update": [{"id": str(theirs.pk), **self.update_data}], "delete": [str(theirs.pk)]}
        )
        errors = self.assert_problem(response, 400)["errors"]
        self.assertEqual(
            errors,
            {"update.0.id": ["Not found."], "delete.0": ["This id is given more than once."]},
        )
        response = self.bulk({"delete": [str(theirs.pk)]})
        self.assertEqual(self.assert_problem(response, 400)["errors"], {"delete.0": ["Not found."]})
        theirs.refresh_from_db()
        after = {f.attname: getattr(theirs, f.attname) for f in theirs._meta.concrete_fields}
        self.assertEqual(after, before)
        # The other organization's own admin sees the same: our rows do not exist for them.
        ours = self.make_object(self.org, 2)
        response = self.other_client.post(
            self.bulk_url(), {"delete": [str(ours.pk)]}, format="json"
        )
        self.assertEqual(self.assert_problem(response, 400)["errors"], {"delete.0": ["Not found."]})
        self.assertTrue(self.model.objects.filter(pk=ours.pk).exists())

    def test_a_foreign_key_of_another_organization_is_refused_as_the_single_path_does(self):
        item, field = self.foreign_item()
        single = self.clients[Role.ADMIN].post(self.url, item, format="json")
        single_errors = self.assert_problem(single, 400, field=field)["errors"][field]
        response = self.bulk({"create": [self.create_data(1), item]})
        errors = self.assert_problem(response, 400)["errors"]
        self.assertEqual(errors, {f"create.1.{field}": single_errors})
        own = self.make_object(self.org, 2)
        response = self.bulk({"update": [{"id": str(own.pk), field: item[field]}]})
        self.assertEqual(
            self.assert_problem(response, 400)["errors"], {f"update.0.{field}": single_errors}
        )
        self.assertFalse(self.rows().exclude(pk=own.pk).exists())

    def test_each_role_gets_what_the_policy_table_says(self):
        sequence = itertools.count(100)
        view_module = self.module
        actions = self.policy_actions()
        for role in ROLES:
            user = self.users[role]
            rules = {
                action: decide(role=role, modules=[self.module], module=view_module, action=action)
                for action in ("view", *actions.values())
            }
            with self.subTest(role=role, operation="create"):
                response = self.bulk({"create": [self.create_data(next(sequence))]}, role=role)
                self.assertEqual(
                    response.status_code,
                    403 if rules[actions["create"]] == Access.NONE else 200,
                    response.content,
                )
            for operation in ("update", "delete"):
                action = actions[operation]
                others = self.make_object(self.org, next(sequence))
                own = self.make_object(self.org, next(sequence))
                self._give(own, user)
                body_of = {
                    "update": lambda row: {"update": [{"id": str(row.pk), **self.update_data}]},
                    "delete": lambda row: {"delete": [str(row.pk)]},
                }[operation]
                with self.subTest(role=role, operation=operation, row="someone else's"):
                    response = self.bulk(body_of(others), role=role)
                    access, reach = rules[action], self._reach(role, rules)
                    if access == Access.NONE:
                        self.assertEqual(response.status_code, 403, response.content)
                    elif reach == Access.OWN:
                        self.assertEqual(
                            self.assert_problem(response, 400)["errors"],
                            {
                                f"{operation}.0{'.id' if operation == 'update' else ''}": [
                                    "Not found."
                                ]
                            },
                        )
                    elif access == Access.OWN:
                        self.assert_problem(response, 400)
                    else:
                        self.assertEqual(response.status_code, 200, response.content)
                with self.subTest(role=role, operation=operation, row="their own"):
                    response = self.bulk(body_of(own), role=role)
                    self.assertEqual(
                        response.status_code,
                        403 if rules[action] == Access.NONE else 200,
                        response.content,
                    )

    def _give(self, obj, user) -> None:
        """Make ``user`` the owner of ``obj`` by its first owner field."""
        field = type(obj).owner_fields[0]
        type(obj).objects.filter(pk=obj.pk).update(**{f"{field}_id": user.pk})
        self.assertTrue(
            type(obj).objects.filter(owner_filter(type(obj), user.pk), pk=obj.pk).exists()
        )

    def _reach(self, role, rules) -> Access:
        """How far ``role`` reads the rows (shared reference data reaches all)."""
        return rules["view"]

    # -- imports --------------------------------------------------------------------------

    def test_a_csv_import_creates_every_row(self):
        rows = [self.import_row(i) for i in range(3)]
        response = self.upload(self.csv_file(rows))
        job = self.imported(response)
        self.assertEqual(job.result["total"], 3)
        self.assertEqual(job.result["created"], 3)
        self.assertEqual(job.params["filename"], "rows.csv")
        ids = job.result["ids"]
        self.assertEqual(set(map(str, self.rows().values_list("pk", flat=True))), set(ids))
        self.assertEqual(self.events("create").filter(object_id__in=ids).count(), 3)
        self.assertEqual(self.kept_files(), [])
        # The member who started it is told, and jobs/{id}/ shows the result.
        detail = self.clients["admin"].get(response["Location"])
        self.assertEqual(detail.json()["result"]["ids"], ids)
        self.assertEqual(detail.json()["state"], "succeeded")

    def test_an_import_whose_rows_became_invalid_fails_whole_and_keeps_no_file(self):
        from valar.jobs.models import Job

        item, field = self.invalid_item
        rows = [self.import_row(0), self.import_row(1)]
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            response = self.clients["admin"].post(
                self.import_url(), {"file": self.csv_file(rows)}, format="multipart"
            )
        self.assertEqual(response.status_code, 202, response.content)
        self.assertEqual(len(self.kept_files()), 1)
        # Between the check and the job, the kept file is changed to carry a bad row.
        job = Job.objects.get(pk=response.json()["id"])
        bad = {**rows[1], field: str(item[field]) if item[field] is not None else ""}
        with open(f"{self.media_root}/{job.params['file']}", "wb") as kept:
            kept.write(self.csv_file([rows[0], bad]).read())
        for callback in callbacks:
            callback()
        job.refresh_from_db()
        self.assertEqual(job.state, "failed")
        self.assertIn(f"row.3.{field}", job.error)
        self.assertFalse(self.rows().exists())
        self.assertEqual(self.kept_files(), [])

    def test_a_cancelled_import_writes_nothing_and_keeps_no_file(self):
        from valar.jobs.models import Job

        with self.captureOnCommitCallbacks(execute=False):
            response = self.clients["admin"].post(
                self.import_url(), {"file": self.csv_file([self.import_row(0)])},
                format="multipart",
            )  # fmt: skip
        job_id = response.json()["id"]
        with self.captureOnCommitCallbacks(execute=True):
            cancel = self.clients["admin"].post(f"/api/v1/jobs/{job_id}/cancel/")
        self.assertEqual(cancel.status_code, 200, cancel.content)
        self.assertEqual(Job.objects.get(pk=job_id).state, "cancelled")
        self.assertEqual(self.kept_files(), [])
        self.assertFalse(self.rows().exists())

    def test_an_xlsx_import_creates_every_row(self):
        rows = [self.import_row(i) for i in range(3)]
        response = self.upload(self.xlsx_file(rows, name="rows.csv"), dry_run=False)
        self.imported(response)
        self.assertEqual(self.rows().count(), 3)

    def test_a_dry_run_reports_each_row_and_changes_nothing(self):
        item, field = self.invalid_item
        rows = [self.import_row(0), self.import_row(1)]
        bad = dict(rows[1])
        bad[field] = str(item[field]) if item[field] is not None else ""
        rows.append(bad)
        events = AuditEvent.objects.count()
        response = self.upload(self.csv_file(rows), dry_run=True)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual((body["dry_run"], body["total"], body["valid"]), (True, 3, 2))
        self.assertEqual([row["row"] for row in body["rows"]], [2, 3, 4])
        self.assertEqual(body["rows"][0]["errors"], {})
        self.assertIsNotNone(body["rows"][0]["data"])
        self.assertIn(field, body["rows"][2]["errors"])
        self.assertIsNone(body["rows"][2]["data"])
        self.assertFalse(self.rows().exists())
        self.assertEqual(AuditEvent.objects.count(), events)
        # The same file for real: nothing, the bad row named by its row in the file, no job.
        from valar.jobs.models import Job

        response = self.upload(self.csv_file(rows))
        self.assert_problem(response, 400, field=f"row.4.{field}")
        self.assertFalse(self.rows().exists())
        self.assertFalse(Job.objects.filter(kind="imports.file").exists())
        self.assertEqual(self.kept_files(), [])

    def test_an_import_is_typed_by_its_bytes_and_bounded(self):
        pdf = SimpleUploadedFile("rows.csv", b"%PDF-1.7\n\x00\xff binary", content_type="text/csv")
        self.assert_problem(self.upload(pdf), 400, code="unsupported_file", field="file")
        zip_not_xlsx = SimpleUploadedFile("rows.xlsx", b"PK\x03\x04" + b"\x00" * 64)
        self.assert_problem(self.upload(zip_not_xlsx), 400, code="unsupported_file")
        unknown = self.csv_file([{"no_such_column": "x"}])
        self.assert_problem(self.upload(unknown), 400, code="invalid_file", field="file")
        rows = [self.import_row(i) for i in range(1001)]
        self.assert_problem(self.upload(self.csv_file(rows)), 400, code="too_many_items")
        big = SimpleUploadedFile("big.csv", b"title\n" + b"x" * (20 * 1024 * 1024), "text/csv")
        self.assert_problem(self.upload(big), 413, code="too_large")
        self.assertFalse(self.rows().exists())

    def test_an_import_refuses_roles_that_may_not_create_and_rows_of_another_organization(self):
        for role in ROLES:
            allowed = decide(
                role=role,
                modules=[self.module],
                module=self.module,
                action=self.policy_actions()["create"],
            )
            if allowed == Access.NONE:
                with self.subTest(role=role):
                    response = self.upload(self.csv_file([self.import_row(0)]), role=role)
                    self.assertEqual(response.status_code, 403, response.content)
        item, field = self.foreign_item()
        row = {**self.import_row(0), field: str(item[field])}
        response = self.upload(self.csv_file([row]))
        self.assert_problem(response, 400, field=f"row.2.{field}")
        self.assertFalse(self.rows().exists())
