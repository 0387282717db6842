"""Storage: SQLModel tables, async sessions for SQLite and PostgreSQL, migrations, queries.

Imports nothing of imtui's other layers and never Textual.
"""
