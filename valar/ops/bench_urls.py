"""The URLconf ``make bench`` runs under: the public API plus benchmark-only fixtures.

Never the ``ROOT_URLCONF`` of a server: the fixtures (peers, framework floor) exist only to be
measured beside the real endpoints.
"""

from valar.tasks.bench import bench_urlpatterns
from valar.urls import urlpatterns as api_urlpatterns

urlpatterns = [*bench_urlpatterns, *api_urlpatterns]
