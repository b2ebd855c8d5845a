"""The needs marketplace: lifecycle, claims, ranking, assignment, learning from outcomes."""
