"""The orjson renderer writes the bytes DRF's ``JSONRenderer`` wrote, on real answers.

Every ``GET`` of the OpenAPI document is asked for by the demo admin (lists, a detail of each
list's first row, figures, problems for missing parameters); the data of each answer is
rendered by both renderers and the bytes must be equal. Decimals are the one deliberate
difference: DRF's encoder writes a float, this renderer the exact string.
"""

import datetime
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from valar.accounts.models import User
from valar.core.renderers import OrjsonRenderer
from valar.core.testing import ApiTestCase
from valar.core.testing.lists import list_paths
from valar.core.testing.schema import openapi_schema
from valar.ops.services import DEMO_EMAIL, demo_seed


class RendererTests(ApiTestCase):
    """Same bytes as DRF on every answer; exact decimals; DRF's formats for dates and times."""

    def setUp(self) -> None:
        """The demo data, signed in as its admin."""
        super().setUp()
        demo_seed()
        self.api = self.token_client(User.objects.get(email=DEMO_EMAIL))

    def urls(self) -> list[str]:
        """Every ``GET`` without path parameters, and the detail of each list's first row."""
        found = [
            path
            for path, item in openapi_schema()["paths"].items()
            if "get" in item and "{" not in path and not path.endswith("/export/")
        ]
        for path, names in list_paths():
            if names:
                continue
            response = self.api.get(path)
            if response.status_code != 200:
                continue  # a portal list: clients only (its 403 is compared above)
            rows = response.json()["results"]
            if rows and f"{path}{{id}}/" in openapi_schema()["paths"]:
                found.append(f"{path}{rows[0]['id']}/")
        return found

    def test_every_answer_renders_to_the_bytes_drf_wrote(self):
        compared = 0
        for url in self.urls():
            response = self.api.get(url)
            data = getattr(response, "data", None)
            if data is None or not response["Content-Type"].startswith("application/"):
                continue
            with self.subTest(url=url, status=response.status_code):
                self.assertEqual(OrjsonRenderer().render(data), JSONRenderer().render(data))
                self.assertEqual(response.content, OrjsonRenderer().render(data))
                compared += 1
        self.assertGreater(compared, 40)

    def test_values_outside_json_are_written_as_drf_writes_them(self):
        data = {
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 1, 2),
            "time": datetime.time(9, 30, 0, 123456),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "lazy": gettext_lazy("This field is required."),
            "text": "Zürich \u2028 line \u2029 paragraph",
            "seconds": datetime.timedelta(minutes=2),
            "numbers": [1, 2.5, None, True],
        }
        self.assertEqual(OrjsonRenderer().render(data), JSONRenderer().render(data))

    def test_a_decimal_is_its_exact_string_never_a_float(self):
        rendered = OrjsonRenderer().render({"amount": Decimal("1234567890123.10")})
        self.assertEqual(rendered, b'{"amount":"1234567890123.10"}')

    def test_asking_for_indentation_gets_drfs_rendering(self):
        data = {"a": [1, {"b": "c"}]}
        rendered = OrjsonRenderer().render(data, "application/json; indent=4")
        self.assertEqual(rendered, JSONRenderer().render(data, "application/json; indent=4"))

    def test_an_integer_beyond_64_bits_falls_back_to_drf(self):
        self.assertEqual(OrjsonRenderer().render({"n": 2**70}), b'{"n":1180591620717411303424}')
