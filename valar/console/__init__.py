"""The web console: a single-page client of the API, served at ``/app/``.

Its source is ``frontend/`` (built with Vite into ``page/index.html`` and
``static/console/assets/``, committed); the server's
part is one view answering the page itself. Everything the page shows it asks the API for.
"""
