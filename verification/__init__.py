"""Verification (核查): cross-checks of the platform's records against department data, the
verification tasks they raise for field workers, and exits (退出) judged on the income line and
两不愁三保障. Pure rules (rules.py, exits.py, report.py) take and return plain models; the
services around them read and write through graph/ repositories."""
