"""A regional desk: hosts the bureaus of some provinces, their investigators and requests."""
