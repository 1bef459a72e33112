"""Storage: the only package that imports SQLAlchemy. Rows become domain objects here."""

from .engine import Store, Tx, open_store

__all__ = ["Store", "Tx", "open_store"]
