"""Database backends the kernel adjusts."""
