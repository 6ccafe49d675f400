"""coordination/concerns/views."""
