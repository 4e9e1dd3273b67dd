"""superfone-importer: sync spreadsheets of sales leads into the Superfone CRM."""

from importer.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ImporterError,
    InputError,
    RejectedError,
    TransientError,
    UncertainError,
)
from importer.models import Issue, Row

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "ImporterError",
    "InputError",
    "Issue",
    "RejectedError",
    "Row",
    "TransientError",
    "UncertainError",
    "__version__",
]
