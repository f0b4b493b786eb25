"""Errors the command line reports as one clear line."""


class DangxiaoError(Exception):
    """A user-facing error: the message names the file and the cause, no traceback is shown."""
