"""Errors the service layer raises on purpose (kept apart from ``spectrum.errors``.

``spectrum.errors`` imports the capture package (and numpy) for its sibling root; the
service stays lighter and the CLI translates :class:`ServiceError` into a one-line exit 2.
"""


class ServiceError(Exception):
    """The service cannot start or act as asked; the message names the value and the fix."""


class StorageError(ServiceError):
    """The database URL is invalid or the database cannot be opened or written."""
