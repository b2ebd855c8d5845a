"""Routers, one module per resource. Thin: typed dependencies, one service call."""
