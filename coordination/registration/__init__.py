"""coordination/registration."""
