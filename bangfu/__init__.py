"""Shared kernel of bangfu: settings, domain vocabulary and the root error type.

Every layer (graph/, matching/, ml/, api/, workers/) may import this package; it imports none of
them. Keep it small: anything with behaviour belongs in a layer.
"""
