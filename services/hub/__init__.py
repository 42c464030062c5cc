"""The hub: the partner registry and the routing of assistance requests."""
