"""The web console: a single-page client of the API, served at ``/app/``.

Its source is ``frontend/`` (built with Vite into ``static/console/``, committed); the server's
part is one view answering the page itself. Everything the page shows it asks the API for.
"""
