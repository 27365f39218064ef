"""One exception root for the package.

Every error a user can cause is a ``FeatureStoreError``. Each subclass also inherits the
builtin it resembles, so callers can catch either (``except ValueError`` still works).
Messages say what was found, what is allowed and what to do next.
"""

from __future__ import annotations


class FeatureStoreError(Exception):
    """Root of every error raised by featurestore."""


class DefinitionError(ValueError, FeatureStoreError):
    """A feature definition (entity, view, service, ...) is invalid."""


class ConfigError(ValueError, FeatureStoreError):
    """``featurestore.yaml`` is missing or invalid."""


class RepoError(FeatureStoreError):
    """The feature repo could not be loaded."""


class RegistryError(FeatureStoreError):
    """The registry could not be read or written."""


class RegistryConflictError(RegistryError):
    """Someone else applied a change between our plan and our apply."""


class NotFoundError(KeyError, FeatureStoreError):
    """A named object (view, feature, service, version) does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the sentence.
        return str(self.args[0]) if self.args else ""


class SourceDataError(ValueError, FeatureStoreError):
    """A source's data does not match its definition (missing column, wrong type, ...)."""


class RequestError(ValueError, FeatureStoreError):
    """A retrieval or lookup request is malformed (missing key column, wrong type, ...)."""


class OnlineStoreError(FeatureStoreError):
    """The online store failed or could not be reached."""


class OnlineStoreUnavailableError(ConnectionError, OnlineStoreError):
    """The online store cannot be reached right now; retrying later may succeed."""


class DeployRefusedError(FeatureStoreError):
    """A model deploy was refused by a check; ``report`` says which checks failed and why."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class JobError(FeatureStoreError):
    """A materialization job could not be planned or run (bad window, view busy, ...)."""


class ServerError(FeatureStoreError):
    """A feature server refused or failed a call; ``code`` is the gRPC status name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
