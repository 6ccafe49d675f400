"""The Child's Plan and the Needs Compass vocabulary."""
