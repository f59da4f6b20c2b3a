"""Views: rich tables, compact charts and the JSON envelope. They receive data and read nothing:
no store, settings file or client (an import contract in pyproject.toml keeps it so)."""
