"""The single error type that every piece of untrusted input is turned into."""


class ConfigError(ValueError):
    """Invalid input, with the JSON path of the offending field.

    Callers (callbacks, the HTTP API) show ``message`` next to ``field``; nothing else about
    the failure ever reaches a client.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"error": self.message, "field": self.field}
