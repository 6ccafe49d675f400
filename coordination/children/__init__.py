"""coordination/children."""
