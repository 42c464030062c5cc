"""xiecha wire contract: message models, routing-key scheme and error codes.

Pure data: nothing here performs I/O. Services depend on this package, never the
other way round. Breaking changes go into a new version package (``v2``) and a
new routing-key prefix, so old and new desks can share one broker.
"""
