"""Infrastructure shared by every xiecha service: logging, database, bus, HTTP."""
