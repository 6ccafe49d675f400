"""childplan/views."""
