"""Risk of falling back into poverty: features, training, scoring, explanations, registry."""
