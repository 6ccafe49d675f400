"""The individual child team (Barnets eget team) and its meetings."""
