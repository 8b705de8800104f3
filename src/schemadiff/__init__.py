"""schemadiff: declarative PostgreSQL schema-as-code."""

__version__ = "0.1.0"
