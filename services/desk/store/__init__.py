"""The desk's PostgreSQL store: plain SQL over asyncpg, one module per table group."""
