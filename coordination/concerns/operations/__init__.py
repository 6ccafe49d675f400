"""coordination/concerns/operations."""
