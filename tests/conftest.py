"""Project-wide test settings."""
