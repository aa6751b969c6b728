"""s8 desk: the agents' read model, views, search and live stream."""
