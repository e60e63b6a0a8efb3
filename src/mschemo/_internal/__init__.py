"""Private helpers: random streams, atomic file writes."""
