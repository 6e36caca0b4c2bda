"""Users of the platform and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    caregiver = "caregiver"
    dispatcher = "dispatcher"
    provider_admin = "provider_admin"
    finance = "finance"
    admin = "admin"
    # An elder's relative: sees, rates and orders for the elders linked to them (family_links).
    family = "family"
    # Read-only across every provider inside an area (a district, or streets of it): 民政局.
    supervisor = "supervisor"
    # Not a login role: the actor of a request signed by a registered device's key.
    device = "device"

    @property
    def platform_level(self) -> bool:
        """Finance and admin work across providers; the others are bound to one."""
        return self in (Role.finance, Role.admin)

    @property
    def area_level(self) -> bool:
        """A supervisor is bound to an area (``dispatch.areas``), not to a provider."""
        return self is Role.supervisor


# Roles a user logs in with (a device signs with its key and never holds a token).
LOGIN_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.device)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregivers.id"), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    # A supervisor's area: a district (区/县级市) and, for a street supervisor, its streets.
    area_district: Mapped[str | None] = mapped_column(String(100))
    area_streets: Mapped[list[str] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"
