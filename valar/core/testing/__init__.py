"""Test helpers every app's tests reuse: an API test case with sign-in and problem checks."""

from valar.core.testing.cases import ApiTestCase, MediaRootMixin

__all__ = ["ApiTestCase", "MediaRootMixin"]
