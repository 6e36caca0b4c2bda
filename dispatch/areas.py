"""Areas (分权分域): what a supervisor bound to a district, or to streets of it, may see.

The contract, enforced once through ``dispatch.tenancy.scoped`` (which calls ``clause``):

- a district is a provider's ``district``; a client's and a caregiver's district is their
  provider's, and their street (街道) is their own ``street``;
- an area is a district and, for a street supervisor, a list of its streets (empty: the whole
  district);
- a client is inside when its provider is in the district and (for a street supervisor) its
  street is one of the area's; a caregiver likewise by the caregiver's street;
- rows about a client (visits, work orders, care plans, contacts, call-backs…) are inside when
  their client is; rows about a work order (flags, appeals) when their order is; rows about a
  caregiver (skills, certificates, training) when their caregiver is;
- a provider is inside when it is registered in the district and, for a street supervisor, has
  at least one client in the area's streets;
- anything else a provider owns (users, devices, plans, batches, photos, audit) is outside:
  a supervisor reads none of it. Rows that belong to no provider (the catalogue) are shared.

Outside means invisible: lists leave the row out and an id answers 404, as for another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, select, true

from dispatch.models import Caregiver, Client, Provider, User, WorkOrder


@dataclass(frozen=True)
class Area:
    district: str
    streets: tuple[str, ...] = ()

    @property
    def whole_district(self) -> bool:
        return not self.streets

    def label(self) -> str:
        return self.district + (f" ({', '.join(self.streets)})" if self.streets else "")


def area_of(district: str | None, streets: list[str] | None) -> Area | None:
    if not district:
        return None
    return Area(district, tuple(sorted({s for s in streets or () if s})))


def district_providers(area: Area) -> Any:
    return select(Provider.id).where(Provider.district == area.district)


def client_clause(area: Area) -> ColumnElement[bool]:
    """The clients inside ``area`` (a condition on ``Client``)."""
    inside = Client.provider_id.in_(district_providers(area))
    if area.streets:
        inside = and_(inside, Client.street.in_(area.streets))
    return inside


def caregiver_clause(area: Area) -> ColumnElement[bool]:
    inside = Caregiver.provider_id.in_(district_providers(area))
    if area.streets:
        inside = and_(inside, Caregiver.street.in_(area.streets))
    return inside


def provider_clause(area: Area) -> ColumnElement[bool]:
    inside = Provider.district == area.district
    if area.streets:
        inside = and_(
            inside,
            exists().where(Client.provider_id == Provider.id, Client.street.in_(area.streets)),
        )
    return inside


def clause(model: type[Any], area: Area | None) -> ColumnElement[bool]:
    """The rows of ``model`` inside ``area``; nothing at all without an area."""
    if area is None:
        return false()
    if model is User:
        return false()  # a caregiver's login is no row about the caregiver
    if model is Provider:
        return provider_clause(area)
    if model is Client:
        return client_clause(area)
    if model is Caregiver:
        return caregiver_clause(area)
    if hasattr(model, "client_id"):
        return model.client_id.in_(select(Client.id).where(client_clause(area)))
    if hasattr(model, "work_order_id"):
        orders = select(WorkOrder.id).where(
            WorkOrder.client_id.in_(select(Client.id).where(client_clause(area)))
        )
        return model.work_order_id.in_(orders)
    if hasattr(model, "caregiver_id"):
        return model.caregiver_id.in_(select(Caregiver.id).where(caregiver_clause(area)))
    if hasattr(model, "provider_id"):
        return false()
    return true()
