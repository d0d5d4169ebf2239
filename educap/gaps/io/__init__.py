"""External formats of the gap analysis (pure parse/serialise, no database access)."""
