"""coordination/demo."""
