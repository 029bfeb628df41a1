"""Errors a user can act on. Pipelines print their message as one line and exit non-zero."""


class FaceemoError(Exception):
    """Base class: the message says what is wrong and, where possible, what to do."""


class DataError(FaceemoError):
    """An archive, folder or file is missing, unreadable or not in a known layout."""


class WarehouseError(FaceemoError):
    """The warehouse is missing, empty, locked or from an unknown schema."""


class ModelError(FaceemoError):
    """A model name is unknown or its file is missing or unreadable."""
