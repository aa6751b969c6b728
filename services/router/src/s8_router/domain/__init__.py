"""Router's pure domain: who should handle which ticket (no I/O)."""
