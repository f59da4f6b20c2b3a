"""A write whose answer was lost: it was sent, and Tesla may have carried it out.

:class:`AnswerLost` is raised by the connection (never retried there) when a command was sent but
its answer is unknown: the answer timed out or the connection dropped after the request went out
(a tariff push; see :data:`amber_tesla_sync.tesla.connection.SENT_ONCE`), a gateway timeout
(504) to a tariff push, or a success status (2xx) to any command whose body cannot be read. It is
not a refusal: whoever sent it reads the Powerwall back before sending it again."""

from __future__ import annotations

from amber_tesla_sync.errors import ServiceError


class AnswerLost(ServiceError):
    """Sent; whether Tesla carried it out is unknown (read it back before sending it again)."""

    def __init__(self, message: str, hint: str, why: str) -> None:
        super().__init__(message, hint)
        self.why = why  # what happened to the answer ("timed out", "not JSON", …)
