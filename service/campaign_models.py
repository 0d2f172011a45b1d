"""The campaign table: what the desk asks its sensors to sweep, and when (issue 17).

The validated campaign body is stored whole as JSON (``spec``); the targets are also kept in
their own columns because the assignment of a sensor is decided on them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models import Base


class CampaignRow(Base):
    """One campaign, in its latest version (``version`` grows by one on every change)."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    target_kind: Mapped[str] = mapped_column(String(8))  # all | sites | sensors
    targets: Mapped[str] = mapped_column(Text)  # JSON list of site or sensor ids ([] for all)
    spec: Mapped[str] = mapped_column(Text)  # JSON: plan, detector, schedule, targets
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(200))
