"""coordination/concerns/access."""
