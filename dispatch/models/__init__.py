"""All models, imported so that the metadata is complete for Alembic and the mappers."""

from dispatch.models.allowances import (
    AllowanceAccount,
    AllowanceEntry,
    AllowanceMonth,
    AllowanceScheme,
    EntryKind,
)
from dispatch.models.appeals import Appeal, AppealStatus
from dispatch.models.audit import AuditEntry
from dispatch.models.billing import BatchStatus, BillingBatch
from dispatch.models.calls import (
    Call,
    CallKind,
    CallSignal,
    CallSource,
    CallStatus,
    EscalationTarget,
)
from dispatch.models.care_plans import CarePlan, Recurrence
from dispatch.models.caregivers import Caregiver, CaregiverSkill, Certificate, Shift, TravelMode
from dispatch.models.clients import (
    AbsenceReason,
    Client,
    ClientAbsence,
    ClientRefusal,
    FundingSource,
    Gender,
    VisitFrequency,
)
from dispatch.models.devices import Device, DeviceKind
from dispatch.models.events import Crs, EventKind, VisitEvent
from dispatch.models.family import (
    Complaint,
    ComplaintStatus,
    FamilyLink,
    Notification,
    NotificationKind,
    Rating,
)
from dispatch.models.flags import Flag, FlagStatus, Severity
from dispatch.models.meals import Canteen, Meal, MealFlag, MealMethod, MealSlot, MealStatus
from dispatch.models.orders import OrderStatus, ServiceOrder
from dispatch.models.periodic import PeriodicRun
from dispatch.models.photos import Photo
from dispatch.models.plans import DayPlan, PlanStatus
from dispatch.models.providers import Provider
from dispatch.models.rate_limits import RateLimit
from dispatch.models.rules import RuleSetting
from dispatch.models.service_points import ServicePoint, ServicePointKind
from dispatch.models.service_types import BillingUnit, ServiceType
from dispatch.models.supervision import (
    SENIOR_GRADES,
    Callback,
    CallbackStatus,
    CaregiverGrade,
    ClientContact,
    ContactKind,
    TookPlace,
    Training,
)
from dispatch.models.timesheets import TimesheetUpload
from dispatch.models.users import LOGIN_ROLES, Role, User
from dispatch.models.visits import Visit, VisitAssignment, VisitOutcome, VisitStatus
from dispatch.models.work_orders import AppealState, WorkOrder, WorkOrderSource, WorkOrderStatus

__all__ = [
    "LOGIN_ROLES",
    "SENIOR_GRADES",
    "AbsenceReason",
    "AllowanceAccount",
    "AllowanceEntry",
    "AllowanceMonth",
    "AllowanceScheme",
    "Appeal",
    "AppealState",
    "AppealStatus",
    "AuditEntry",
    "BatchStatus",
    "BillingBatch",
    "BillingUnit",
    "Call",
    "CallKind",
    "CallSignal",
    "CallSource",
    "CallStatus",
    "Callback",
    "CallbackStatus",
    "Canteen",
    "CarePlan",
    "Caregiver",
    "CaregiverGrade",
    "CaregiverSkill",
    "Certificate",
    "Client",
    "ClientAbsence",
    "ClientContact",
    "ClientRefusal",
    "Complaint",
    "ComplaintStatus",
    "ContactKind",
    "Crs",
    "DayPlan",
    "Device",
    "DeviceKind",
    "EntryKind",
    "EscalationTarget",
    "EventKind",
    "FamilyLink",
    "Flag",
    "FlagStatus",
    "FundingSource",
    "Gender",
    "Meal",
    "MealFlag",
    "MealMethod",
    "MealSlot",
    "MealStatus",
    "Notification",
    "NotificationKind",
    "OrderStatus",
    "PeriodicRun",
    "Photo",
    "PlanStatus",
    "Provider",
    "RateLimit",
    "Rating",
    "Recurrence",
    "Role",
    "RuleSetting",
    "ServiceOrder",
    "ServicePoint",
    "ServicePointKind",
    "ServiceType",
    "Severity",
    "Shift",
    "TimesheetUpload",
    "TookPlace",
    "Training",
    "TravelMode",
    "User",
    "Visit",
    "VisitAssignment",
    "VisitEvent",
    "VisitFrequency",
    "VisitOutcome",
    "VisitStatus",
    "WorkOrder",
    "WorkOrderSource",
    "WorkOrderStatus",
]
