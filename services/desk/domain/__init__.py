"""The desk's pure domain: life cycle, jurisdiction. Standard library and protocol only."""
