"""Tests of strict input: a JSON value of another JSON type, or an empty typed filter, is a 400.

DRF coerces by default (``5`` to ``"5"``, ``"5"`` to ``5``, ``1``/``"true"`` to ``True``) and
django-filter ignores an empty filter value; the schema promises one type per field and
parameter, so the kernel refuses anything else.
"""

import re
import uuid

from django.http import QueryDict
from rest_framework import serializers

from valar.core.serializers import (
    NOT_BLANK_PATTERN,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
)
from valar.core.testing import ApiTestCase
from valar.core.testing.schema import openapi_schema
from valar.organizations.models import Organization


class Example(serializers.Serializer):
    """A plain serializer with one field of each strict kind."""

    name = StrictCharField(required=False)
    count = StrictIntegerField(required=False)
    active = StrictBooleanField(required=False)
    ref = StrictUUIDField(required=False)


class StrictFieldTests(ApiTestCase):
    """The strict fields refuse other JSON types in a body and parse text in a query."""

    def errors(self, data) -> dict:
        serializer = Example(data=data)
        serializer.is_valid()
        return serializer.errors

    def test_a_json_value_of_another_type_is_refused_with_the_types_named(self):
        cases = {
            "name": (5, "Must be a string, not a number."),
            "count": ("5", "Must be an integer, not a string."),
            "active": (1, "Must be a boolean, not a number."),
            "ref": (12345, "Must be a string, not a number."),
        }
        for field, (value, message) in cases.items():
            with self.subTest(field=field):
                self.assertEqual(self.errors({field: value}), {field: [message]})
        self.assertEqual(
            self.errors({"active": "true", "count": True}),
            {
                "active": ["Must be a boolean, not a string."],
                "count": ["Must be an integer, not a boolean."],
            },
        )

    def test_values_of_the_declared_type_are_accepted(self):
        serializer = Example(data={"name": "a", "count": 5, "active": False})
        self.assertTrue(serializer.is_valid(), serializer.errors)
        self.assertEqual(serializer.validated_data, {"name": "a", "count": 5, "active": False})

    def test_an_integral_number_is_an_integer_as_in_json_schema(self):
        from decimal import Decimal

        serializer = Example(data={"count": Decimal("6.0")})
        self.assertTrue(serializer.is_valid(), serializer.errors)
        self.assertEqual(serializer.validated_data["count"], 6)

    def test_query_strings_and_forms_are_text_and_still_parsed(self):
        serializer = Example(data=QueryDict("count=5&active=true&name=x"))
        self.assertTrue(serializer.is_valid(), serializer.errors)
        self.assertEqual(serializer.validated_data, {"name": "x", "count": 5, "active": True})

    def test_model_serializers_get_the_strict_fields(self):
        from valar.organizations.api import OrganizationSerializer

        fields = OrganizationSerializer().fields
        self.assertIsInstance(fields["name"], StrictCharField)


class StrictBodyOverHttpTests(ApiTestCase):
    """Through the API: numbers where strings are declared are 400s and change nothing."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user(first_name="Ada", last_name="Byron")
        self.api = self.token_client(self.user)

    def test_a_number_for_a_name_on_the_profile_is_a_400(self):
        response = self.api.patch("/api/v1/auth/me/", {"last_name": 0}, format="json")
        self.assert_problem(response, 400, field="last_name", code="invalid")
        self.user.refresh_from_db()
        self.assertEqual(self.user.last_name, "Byron")

    def test_a_number_for_an_organization_name_is_a_400(self):
        before = Organization.objects.count()
        response = self.api.post("/api/v1/organizations/", {"name": 0}, format="json")
        self.assert_problem(response, 400, field="name", code="invalid")
        self.assertEqual(Organization.objects.count(), before)


class EmptyFilterValueTests(ApiTestCase):
    """An empty value of a typed filter is a 400 naming it, not a filter silently dropped."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.api = self.token_client(self.user)

    def test_an_empty_boolean_or_date_filter_is_a_400(self):
        for query in ("successful=", "start_date=", "end_date="):
            with self.subTest(query=query):
                response = self.api.get(f"/api/v1/auth/login-logs/?{query}")
                name = query.rstrip("=")
                body = self.assert_problem(response, 400, field=name, code="invalid")
                self.assertEqual(body["errors"][name], ["Must not be empty."])

    def test_a_boolean_filter_takes_true_or_false_only(self):
        for url in (
            "/api/v1/auth/login-logs/?successful=null",
            "/api/v1/auth/login-logs/?successful=1",
        ):
            with self.subTest(url=url):
                self.assert_problem(self.api.get(url), 400, field="successful", code="invalid")

    def test_a_model_boolean_filters_defaults_to_the_strict_filter(self):
        from valar.core.filters import StrictBooleanFilter
        from valar.organizations.selectors import UserFilter

        self.assertIsInstance(UserFilter.base_filters["is_active"], StrictBooleanFilter)

    def test_an_empty_parameter_of_a_query_serializer_is_a_400(self):
        from django.test import RequestFactory

        from valar.core.serializers import PeriodSerializer

        request = RequestFactory().get("/?start_date=&end_date=2026-01-31")
        serializer = PeriodSerializer(data=request.GET)
        self.assertFalse(serializer.is_valid())
        self.assertEqual(serializer.errors, {"start_date": ["Must not be empty."]})

    def test_a_given_filter_value_still_filters(self):
        response = self.api.get("/api/v1/auth/login-logs/?successful=true")
        self.assertEqual(response.status_code, 200, response.content)


class StrictSchemaTests(ApiTestCase):
    """The schema states what the server parses, so a validator or generator agrees with it."""

    def setUp(self) -> None:
        super().setUp()
        self.components = openapi_schema()["components"]["schemas"]

    def test_a_uuid_or_date_time_has_a_pattern_that_refuses_the_blank_string(self):
        uuid_schema = self.components["LeadRequest"]["properties"]["assigned_to"]
        self.assertEqual(uuid_schema["format"], "uuid")
        self.assertIsNone(re.search(uuid_schema["pattern"], ""))
        self.assertIsNotNone(re.search(uuid_schema["pattern"], str(uuid.uuid4())))
        moment = self.components["ApiTokenRequest"]["properties"]["expires_at"]
        self.assertEqual(moment["format"], "date-time")
        self.assertIsNone(re.search(moment["pattern"], ""))
        for value in ("2026-11-27T15:39:22.653747Z", "2026-11-27T15:39:22+01:00"):
            with self.subTest(value=value):
                self.assertIsNotNone(re.search(moment["pattern"], value))

    def test_a_text_that_may_not_be_blank_needs_a_non_space_character(self):
        first_name = self.components["LeadRequest"]["properties"]["first_name"]
        self.assertEqual(first_name["pattern"], NOT_BLANK_PATTERN)
        # Exactly what DRF's trimming (str.strip) leaves non-blank, in every character.
        codes = [*range(0x100), 0x1680, *range(0x2000, 0x2030), 0x205F, 0x3000, 0xFEFF]
        for code in codes:
            with self.subTest(character=hex(code)):
                blank = chr(code).strip() == ""
                self.assertIs(re.search(first_name["pattern"], f" {chr(code)} ") is None, blank)
        self.assertNotIn("pattern", self.components["LeadRequest"]["properties"]["phone"])
        color = self.components["CategoryRequest"]["properties"]["color"]
        self.assertEqual(color["pattern"], "^#[0-9A-Fa-f]{6}$")

    def test_a_rate_is_plain_ascii_digits_as_the_server_reads_it(self):
        rate = self.components["EntryRequest"]["properties"]["exchange_rate"]
        for value in ("", "-", ".", ".5", "5.", "1e1", "5_0", "\u0661", " 1", "-1"):
            with self.subTest(value=value):
                self.assertIsNone(re.search(rate["pattern"], value))
        for value in ("1", "1.5", "0.00000001", "0012"):
            with self.subTest(value=value):
                self.assertIsNotNone(re.search(rate["pattern"], value))

    def test_a_preferences_put_requires_a_body(self):
        paths = openapi_schema()["paths"]["/api/v1/auth/me/preferences/"]
        self.assertIs(paths["put"]["requestBody"]["required"], True)


class MoneyFilterTests(ApiTestCase):
    """Amount bounds in a query take the money pattern: no exponent, no 1e192, no float."""

    def test_the_form_field_parses_amounts_and_refuses_the_rest(self):
        from decimal import Decimal

        from django import forms

        from valar.core.filters import MoneyFormField

        field = MoneyFormField(required=False)
        self.assertEqual(field.clean("100.50"), Decimal("100.50"))
        self.assertEqual(field.clean("-3"), Decimal("-3"))
        for value in ("1e5", "2.1041740894376927e+192", "0.001", "1234567890123", "abc"):
            with self.subTest(value=value), self.assertRaises(forms.ValidationError):
                field.clean(value)

    def test_the_schema_declares_the_pattern_for_every_amount_filter(self):
        paths = openapi_schema()["paths"]
        cases = {"/api/v1/crm/deals/": "min_value", "/api/v1/finance/transactions/": "max_amount"}
        for path, name in cases.items():
            with self.subTest(path=path, name=name):
                parameters = paths[path]["get"]["parameters"]
                schema = next(p for p in parameters if p["name"] == name)["schema"]
                self.assertEqual(schema["pattern"], r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")


class MoneyAndRateBodyTests(ApiTestCase):
    """Amounts and rates in a body are read from ASCII digits only, as the schema says.

    Python's ``Decimal()`` reads ``"5_0"`` as 50, ``"1E1"`` as 10 and Arabic-Indic or
    full-width digits as numbers; none of those is an amount a client meant.
    """

    def test_money_and_rates_refuse_what_decimal_would_read(self):
        from decimal import Decimal

        from valar.core.serializers import MoneyField, RateField

        class Body(serializers.Serializer):
            amount = MoneyField(required=False, min_value=None)
            rate = RateField()

        refused = ["5_0", "1E1", "1e-1", "+5", "5.", ".5", " 5 ", "5\n", "\u0665", "\uff15", True]
        for value in refused:
            for name in ("amount", "rate"):
                with self.subTest(name=name, value=value):
                    body = Body(data={name: value})
                    self.assertFalse(body.is_valid())
                    self.assertIn(name, body.errors)

        class Unsigned(serializers.Serializer):
            amount = MoneyField()

        for value in ("-0", "-0.00", "-1"):
            with self.subTest(unsigned=value):
                self.assertFalse(Unsigned(data={"amount": value}).is_valid())
        zero = Body(data={"amount": "-0.00"})
        self.assertTrue(zero.is_valid())
        self.assertEqual(str(zero.validated_data["amount"]), "0.00")
        body = Body(data={"amount": "-12.50", "rate": "1.08333333"})
        self.assertTrue(body.is_valid(), body.errors)
        self.assertEqual(
            body.validated_data, {"amount": Decimal("-12.50"), "rate": Decimal("1.08333333")}
        )
        self.assertTrue(Body(data={"amount": Decimal("7"), "rate": 2}).is_valid())
