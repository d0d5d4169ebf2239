"""Import/export formats for org units: pure parse and serialise, no database access."""
