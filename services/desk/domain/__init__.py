"""The desk's pure domain: life cycle, the typed request, deadlines, jurisdiction.

Standard library and protocol only; tests need no server."""
