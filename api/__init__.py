"""Entry points: the FastAPI app (JSON API and pages) and the `bangfu` command line. Thin."""
