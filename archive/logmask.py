"""Passwords in URLs never reach a log: a filter on the log handlers masks `scheme://user:pw@`.

Entry points (the CLI, the crawl child process) call `install()` once their handlers exist;
whatever a library logs through them (Scrapy's overridden settings with a Redis URL, a driver's
connection error) is masked as `scheme://user:***@`.
"""

from __future__ import annotations

import logging
import re

_URL_PASSWORD_RE = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"]*):(?P<password>[^@/\s'\"]+)@")


def mask_secrets(text: str) -> str:
    """The text with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD_RE.sub(lambda m: f"{m.group('head')}:***@", text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the masking filter to every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
