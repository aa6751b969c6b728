"""Language helpers shared by services: accent folding, language detection, sentiment."""
