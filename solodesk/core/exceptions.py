from __future__ import annotations


class ApplicationError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user.

    `errors` maps field names to messages so forms and the API can point at the field.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    @classmethod
    def for_field(cls, field: str, message: str) -> ApplicationError:
        return cls(message, errors={field: [message]})
