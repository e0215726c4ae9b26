"""CSS and JavaScript of the ai_tutor block (installed as the `ai_tutor.static` package)."""
