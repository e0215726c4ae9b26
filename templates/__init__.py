"""Templates of the ai_tutor block (installed as the `ai_tutor.templates` package)."""
