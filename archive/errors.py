"""Domain exceptions, raised by the library and translated once at the CLI edge."""


class ArchiveError(Exception):
    """Base class for errors a user can act on; the message names the object and the fix."""


class ConfigError(ArchiveError):
    """The configuration file or an ARCHIVE_* variable is invalid."""


class NotFound(ArchiveError):
    """An id given by the user names nothing in the archive."""


class SchemaOutOfDate(ArchiveError):
    """The database schema is older than this code; `archive db upgrade` fixes it."""


class SketchMismatch(ArchiveError):
    """The archive was fingerprinted with other sketch parameters than the configured ones."""


class RejectedInput(ArchiveError):
    """An input that cannot become an article; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class BadInput(ArchiveError):
    """A value given by the user (a date, a threshold, a query) cannot be used; the message says why."""


class DatabaseError(ArchiveError):
    """The database could not be reached or refused the work (locked, restarted, gone away)."""


class WatchedPathMissing(ArchiveError):
    """A load job's folder or file does not exist (an unmounted disk, a typo in the schedule)."""


class ScheduleError(ArchiveError):
    """A schedule named by the user does not exist, already exists, or is malformed."""
