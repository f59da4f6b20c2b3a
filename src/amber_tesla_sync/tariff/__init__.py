"""The fold: Amber intervals → 48 half-hour slots → a Tesla ``tariff_content_v2`` request body.

Everything in this package is pure: no network, no disk, no clock (``now`` is an argument).
"""

from amber_tesla_sync.tariff.body import TARIFF_CODE, build_request_body
from amber_tesla_sync.tariff.fold import fold
from amber_tesla_sync.tariff.model import (
    FoldOptions,
    Refusal,
    Slot,
    Source,
    TariffPlan,
)
from amber_tesla_sync.tariff.validate import validate_request_body, validate_tariff

__all__ = [
    "TARIFF_CODE",
    "FoldOptions",
    "Refusal",
    "Slot",
    "Source",
    "TariffPlan",
    "build_request_body",
    "fold",
    "validate_request_body",
    "validate_tariff",
]
