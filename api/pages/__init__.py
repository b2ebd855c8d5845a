"""Server-rendered web pages for every user group, served by the API's own app.

Jinja2 templates (templates/), one stylesheet and the vendored htmx and ECharts (static/), and
page routers as thin as the API's: one dependency admits the role and brings its scope (the
same policy and audit as /api/v1), then one service call, and the page shows the same
per-audience view model the API answers with (api/views.py, api/risk.py, api/matching.py).
"""
