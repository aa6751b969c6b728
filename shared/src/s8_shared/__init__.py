"""s8 shared library."""
