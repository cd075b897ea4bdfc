"""Durable jobs: rows in the database, claimed and run by workers, recovered after crashes."""
