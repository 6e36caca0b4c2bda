"""The demo district as plain data, deterministic from a seed (no database involved)."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dispatch.demo.data import (
    CARER_GIVEN_F,
    CARER_GIVEN_M,
    CATALOGUE,
    DISTRICT,
    ELDER_GIVEN_F,
    ELDER_GIVEN_M,
    ELDER_NOTES,
    MED_NOTES,
    PROVIDERS,
    REFUSAL_REASONS,
    STREETS,
    SUPERVISED_STREET,
    SURNAMES,
    ProviderInfo,
)
from dispatch.demo.specs import (
    AbsenceSpec,
    CaregiverSpec,
    CertSpec,
    ClientSpec,
    District,
    PlanSpec,
    PointSpec,
    ShiftSpec,
    UserSpec,
    age_on,
    clamped_day,
)
from dispatch.models import (
    AbsenceReason,
    FundingSource,
    Gender,
    Recurrence,
    Role,
    TravelMode,
    VisitFrequency,
)

DIALECT = "义乌话"
MANDARIN = "普通话"


class _Gen:
    """One pass over a seeded ``random.Random``: call order fixes the output."""

    def __init__(self, seed: int, today: date, tz: ZoneInfo) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.tz = tz
        self._names: set[str] = set()
        self._surnames = [s for s, _ in SURNAMES]
        self._weights = [w for _, w in SURNAMES]

    # -- small pieces -------------------------------------------------------------
    def name(self, given: tuple[str, ...]) -> str:
        for _ in range(20):
            full = self.rng.choices(self._surnames, self._weights)[0] + self.rng.choice(given)
            if full not in self._names:
                break
        self._names.add(full)
        return full

    def mobile(self) -> str:
        prefix = self.rng.choice(("135", "137", "138", "139", "158", "159", "187", "189"))
        return f"{prefix}{self.rng.randrange(10**8):08d}"

    def landline(self) -> str:
        return f"0579-85{self.rng.randrange(10**6):06d}"

    def point_in(self, street: str) -> tuple[float, float]:
        lat0, lat1, lon0, lon1 = STREETS[street].box
        return (
            round(self.rng.uniform(lat0, lat1), 6),
            round(self.rng.uniform(lon0, lon1), 6),
        )

    def address(self, street: str, rural_share: float = 0.0) -> str:
        s = STREETS[street]
        if s.villages and self.rng.random() < rural_share:
            return f"{street} {self.rng.choice(s.villages)} {self.rng.randint(1, 180)}号"
        road = self.rng.choice(s.roads)
        number = self.rng.randint(1, 400)
        building = self.rng.randint(1, 24)
        room = self.rng.randint(1, 18) * 100 + self.rng.randint(1, 4)
        return f"{street} {road} {number}号 {self.rng.choice(s.compounds)} {building}幢 {room}室"

    def local(self, day: date, hour: int = 0, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    # -- rows ---------------------------------------------------------------------
    def points(self, p: ProviderInfo) -> list[PointSpec]:
        rows = []
        for suffix, name, kind, street in p.points:
            lat, lon = self.point_in(street)
            rows.append(
                PointSpec(p.n, f"{p.code}-{suffix}", name, kind, self.address(street), lat, lon)
            )
        return rows

    def caregivers(self, p: ProviderInfo) -> list[CaregiverSpec]:
        rows = []
        n = p.caregivers
        # Fixed roles so every provider can staff baths (pairs), nursing and escorts.
        bathers = set(range(0, 6))
        nurses = {6, 7, 8, 0}
        medics = {9, 10, 11, 1}
        part_timers = {n - 1, n - 2, n - 3}  # lunchtime meal runners
        # Nurses work mornings and late afternoons, so they take a lunch run too.
        runners = part_timers | {6, 7, 8, 12}
        men = {1, 3, 8}
        for i in range(n):
            # A few men on every team: some elders accept only a man (two for a bath).
            female = i not in men and (i in part_timers or self.rng.random() < 0.9)
            gender = Gender.female if female else Gender.male
            name = self.name(CARER_GIVEN_F if female else CARER_GIVEN_M)
            street = self.rng.choice(p.streets)
            lat, lon = self.point_in(street)
            skills = set()
            if i not in part_timers and self.rng.random() < 0.9:
                skills.add("CLEAN")
            if i in bathers:
                skills.add("BATH")
            if i in nurses:
                skills.add("NURSE")
            if i in medics:
                skills.add("MED")
            if i in bathers and i % 2 == 0:
                mode = TravelMode.car  # the bath team drives the portable tub
            else:
                mode = self.rng.choices(
                    (TravelMode.ebike, TravelMode.walk, TravelMode.car), (70, 15, 15)
                )[0]
            if i in runners and mode is TravelMode.walk:
                mode = TravelMode.ebike
            box = 0
            if i in runners:
                box = 12 if mode is TravelMode.car else 8
            local = self.rng.random() < 0.7
            languages = f"{MANDARIN},{DIALECT}" if local else MANDARIN
            if i in part_timers:
                shifts = tuple(ShiftSpec(d, time(10, 30), time(13, 30)) for d in range(7))
                max_min, brk, b0, b1 = 180, 0, None, None
            else:
                if self.rng.random() < 0.25:
                    days, start, end = range(5), time(7, 30), time(16, 30)
                else:
                    self.rng.choice((6, 6, 6, 0, 2))  # kept: the draw keeps the seed's district
                    # Days off rotate through the week, so weekends are staffed like weekdays.
                    off = (i * 3) % 7
                    days, start, end = (d for d in range(7) if d != off), time(8), time(17)
                shifts = tuple(ShiftSpec(d, start, end) for d in days)
                max_min = self.rng.choice((480, 480, 480, 420))
                brk, b0, b1 = 60, time(11, 30), time(13, 30)
            rows.append(
                CaregiverSpec(
                    provider_n=p.n,
                    index=i + 1,
                    code=f"CG{p.n}{i + 1:02d}",
                    name=name,
                    gender=gender,
                    birth_year=self.today.year - self.rng.randint(35, 58),
                    phone=self.mobile(),
                    street=street,
                    home_address=self.address(street, rural_share=0.3),
                    home_lat=lat,
                    home_lon=lon,
                    starts_at_centre=self.rng.random() < 0.3,
                    travel_mode=mode,
                    max_minutes_per_day=max_min,
                    break_minutes=brk,
                    break_earliest=b0,
                    break_latest=b1,
                    box_capacity=box,
                    languages=languages,
                    skills=tuple(sorted(skills)),
                    certificates=self.certificates(p.n, i, skills),
                    shifts=shifts,
                )
            )
        # One caregiver of the first provider called in sick today: the planner must cope.
        if p.n == 1:
            sick = rows[5]
            leave = ShiftSpec(None, None, None, on_date=self.today, off=True)
            rows[5] = replace(sick, shifts=(*sick.shifts, leave))
        return rows

    def certificates(self, provider_n: int, i: int, skills: set[str]) -> tuple[CertSpec, ...]:
        today = self.today
        issued = today - timedelta(days=self.rng.randint(200, 1800))
        level = self.rng.choice(("初级", "中级", "中级", "高级"))
        care_expires = issued + timedelta(days=5 * 365)
        # A few lapsed certificates, so the SKILL_MISMATCH rule has something to find.
        if provider_n in (1, 2) and i == 6:
            care_expires = today - timedelta(days=self.rng.randint(5, 60))
        health_issued = today - timedelta(days=self.rng.randint(10, 350))
        if i in (8, 15) or (provider_n == 3 and i == 2):
            health_issued = today - timedelta(days=self.rng.randint(380, 450))
        return (
            CertSpec(
                f"养老护理员证（{level}）",
                f"ZJYL{issued.year}{self.rng.randrange(10**6):06d}",
                "NURSE" if "NURSE" in skills else None,
                issued,
                care_expires,
            ),
            CertSpec(
                "健康证",
                f"JK{health_issued.year}{self.rng.randrange(10**7):07d}",
                None,
                health_issued,
                health_issued + timedelta(days=365),
            ),
        )

    def birth_date(self) -> date:
        band = self.rng.choices(((60, 69), (70, 79), (80, 89), (90, 99)), (25, 35, 30, 10))[0]
        age = self.rng.randint(*band)
        # Any day in the year of life that gives exactly ``age`` today.
        latest = clamped_day(self.today.year - age, self.today.month, self.today.day)
        return latest - timedelta(days=self.rng.randint(0, 364))

    def clients(self, p: ProviderInfo, carers: list[CaregiverSpec]) -> list[ClientSpec]:
        rows = []
        for k in range(p.clients):
            female = self.rng.random() < 0.58
            gender = Gender.female if female else Gender.male
            name = self.name(ELDER_GIVEN_F if female else ELDER_GIVEN_M)
            birth = self.birth_date()
            age = age_on(birth, self.today)
            street = self.rng.choice(p.streets)
            lat, lon = self.point_in(street)
            level_weights = (35, 30, 20, 10, 5) if age < 80 else (12, 25, 28, 22, 13)
            level = self.rng.choices(range(5), level_weights)[0]
            alone = self.rng.random() < 0.3
            if level == 4 or (alone and age >= 85):
                freq = VisitFrequency.daily
            elif level == 3 or alone:
                freq = VisitFrequency.weekly
            elif level == 2:
                freq = VisitFrequency.monthly
            else:
                freq = self.rng.choice((VisitFrequency.quarterly, VisitFrequency.half_yearly))
            funding = self.rng.choices(
                (FundingSource.government, FundingSource.allowance, FundingSource.self_paid),
                (55, 30, 15),
            )[0]
            if level >= 3 and self.rng.random() < 0.35:
                funding = FundingSource.ltc_insurance
            minutes: int | None = None
            allowance: Decimal | None = None
            if funding is FundingSource.government:
                minutes = (240, 360, 600, 900, 1200)[level]
            elif funding is FundingSource.ltc_insurance:
                minutes = 1350 if level == 3 else 1800
            elif funding is FundingSource.allowance:
                # Service allowance by assessed level plus the age allowance (高龄津贴).
                base = (100, 200, 300, 400, 600)[level]
                bonus = 100 if age >= 90 else 60 if age >= 80 else 0
                allowance = Decimal(base + bonus).quantize(Decimal("0.01"))
            pref: Gender | None = None
            roll = self.rng.random()
            if female and roll < 0.2:
                pref = Gender.female
            elif not female and roll < 0.08:
                pref = Gender.male
            notes = []
            if alone:
                notes.append("独居")
            if self.rng.random() < 0.2:
                notes.append(self.rng.choice(ELDER_NOTES))
            absences = self.absences()
            refused: tuple[tuple[str, str], ...] = ()
            if self.rng.random() < 0.04:
                cg = self.rng.choice(carers)
                refused = ((cg.code, self.rng.choice(REFUSAL_REASONS)),)
            rows.append(
                ClientSpec(
                    provider_n=p.n,
                    code=f"C{p.n}{k + 1:04d}",
                    name=name,
                    gender=gender,
                    birth_date=birth,
                    phone=self.mobile() if self.rng.random() < 0.6 else self.landline(),
                    street=street,
                    address=self.address(street, rural_share=0.2),
                    lat=lat,
                    lon=lon,
                    care_level=level,
                    visit_frequency=freq,
                    funding_source=funding,
                    monthly_entitlement_min=minutes,
                    monthly_allowance=allowance,
                    preferred_caregiver_gender=pref,
                    language=DIALECT if age >= 85 and self.rng.random() < 0.3 else None,
                    notes="；".join(notes) or None,
                    absences=absences,
                    refused=refused,
                )
            )
        return rows

    def absences(self) -> tuple[AbsenceSpec, ...]:
        roll = self.rng.random()
        today = self.today
        if roll < 0.03:  # in hospital right now
            start = today - timedelta(days=self.rng.randint(1, 6))
            end = today + timedelta(days=self.rng.randint(2, 10))
            return (
                AbsenceSpec(
                    self.local(start, 9),
                    self.local(end, 17),
                    AbsenceReason.hospital,
                    self.rng.choice(("义乌市中心医院住院", "义乌市中医医院住院")),
                ),
            )
        if roll < 0.05:  # visiting children elsewhere, today included
            start = today - timedelta(days=self.rng.randint(0, 3))
            end = today + timedelta(days=self.rng.randint(1, 7))
            return (
                AbsenceSpec(
                    self.local(start),
                    self.local(end, 23, 59),
                    AbsenceReason.travel,
                    self.rng.choice(("去杭州女儿家", "去上海儿子家", "回老家探亲")),
                ),
            )
        if roll < 0.08:  # a past stay that no longer matters
            start = today - timedelta(days=self.rng.randint(20, 40))
            end = start + timedelta(days=self.rng.randint(3, 9))
            return (
                AbsenceSpec(
                    self.local(start, 9), self.local(end, 17), AbsenceReason.hospital, "出院回家"
                ),
            )
        return ()

    def users(self, p: ProviderInfo, carers: list[CaregiverSpec]) -> list[UserSpec]:
        staff = [
            UserSpec(f"dispatcher{p.n}", Role.dispatcher, p.n, self.name(CARER_GIVEN_F)),
            UserSpec(f"provider{p.n}", Role.provider_admin, p.n, self.name(ELDER_GIVEN_M)),
        ]
        staff += [
            UserSpec(f"caregiver{p.n}_{g.index}", Role.caregiver, p.n, g.name, g.code)
            for g in carers
        ]
        return staff

    def carer_for(
        self, c: ClientSpec, skill: str | None, carers: list[CaregiverSpec]
    ) -> str | None:
        """A usual caregiver for continuity: skilled, not refused, same street if possible."""
        refused = {code for code, _ in c.refused}
        fits = [
            g
            for g in carers
            if (skill is None or skill in g.skills)
            and g.code not in refused
            and c.preferred_caregiver_gender in (None, g.gender)
            and g.max_minutes_per_day > 180
        ]
        near = [g for g in fits if g.street == c.street] or fits
        return self.rng.choice(near).code if near else None

    @staticmethod
    def meal_point(c: ClientSpec, points: list[PointSpec]) -> str:
        """The kitchen or canteen (助餐点) nearest to the client cooks or hands out the lunch."""
        cooks = [pt for pt in points if pt.kind in ("kitchen", "canteen")]
        scale = math.cos(math.radians(c.lat))
        return min(
            cooks, key=lambda pt: (pt.lat - c.lat) ** 2 + ((pt.lon - c.lon) * scale) ** 2
        ).code

    def plans(
        self,
        p: ProviderInfo,
        clients: list[ClientSpec],
        carers: list[CaregiverSpec],
        points: list[PointSpec],
    ) -> list[PlanSpec]:
        rows: list[PlanSpec] = []
        today = self.today
        med_today = 0
        morning = (time(8, 30), time(11, 30))
        afternoon = (time(13, 30), time(16, 30))
        workdays = range(6)
        for c in clients:
            age = age_on(c.birth_date, today)
            start = today - timedelta(days=self.rng.randint(30, 400))

            def add(
                code: str,
                recurrence: Recurrence,
                window: tuple[time, time],
                minutes: int,
                skill: str | None,
                c: ClientSpec = c,
                start: date = start,
                **kw: object,
            ) -> None:
                pref = self.carer_for(c, skill, carers) if self.rng.random() < 0.6 else None
                rows.append(
                    PlanSpec(
                        provider_n=p.n,
                        client_code=c.code,
                        service_code=code,
                        recurrence=recurrence,
                        start_date=start,
                        window_start=window[0],
                        window_end=window[1],
                        duration_min=minutes,
                        preferred_caregiver_code=pref,
                        **kw,  # type: ignore[arg-type]
                    )
                )

            # 助餐: lunch from the central kitchen, delivered 11:00–12:30, no usual caregiver.
            if (c.care_level >= 1 or age >= 80) and self.rng.random() < 0.36:
                days = tuple(range(7)) if self.rng.random() < 0.6 else tuple(range(5))
                rows.append(
                    PlanSpec(
                        provider_n=p.n,
                        client_code=c.code,
                        service_code="MEAL",
                        recurrence=Recurrence.weekly,
                        days_of_week=days,
                        start_date=start,
                        window_start=time(11),
                        window_end=time(12, 30),
                        duration_min=5,  # hand over the box, a word, a look around
                        service_point_code=self.meal_point(c, points),
                        priority=2,
                    )
                )
            # 探访: the check-on visit of the client's colour class.
            window = self.rng.choice((morning, afternoon))
            freq = c.visit_frequency
            if freq is VisitFrequency.daily:
                add(
                    "VISIT",
                    Recurrence.weekly,
                    window,
                    20,
                    None,
                    days_of_week=tuple(range(7)),
                    priority=3,
                )
            elif freq is VisitFrequency.weekly:
                add(
                    "VISIT",
                    Recurrence.weekly,
                    window,
                    30,
                    None,
                    days_of_week=(self.rng.choice(workdays),),
                    priority=2,
                )
            else:
                rec = {
                    VisitFrequency.monthly: Recurrence.monthly,
                    VisitFrequency.quarterly: Recurrence.quarterly,
                    VisitFrequency.half_yearly: Recurrence.half_yearly,
                }[freq]
                add("VISIT", rec, window, 30, None, day_of_month=self.rng.randint(1, 28))
            # 助洁: weekly or fortnightly cleaning.
            if c.care_level >= 1 and self.rng.random() < 0.5:
                minutes = self.rng.choice((60, 60, 90))
                window = self.rng.choice((morning, afternoon))
                if self.rng.random() < 0.7:
                    add(
                        "CLEAN",
                        Recurrence.weekly,
                        window,
                        minutes,
                        "CLEAN",
                        days_of_week=(self.rng.choice(range(5)),),
                    )
                else:
                    add(
                        "CLEAN", Recurrence.every_n_days, window, minutes, "CLEAN", interval_days=14
                    )
            # 助浴: two caregivers, once a week, for the dependent.
            if c.care_level >= 3 and self.rng.random() < 0.65:
                window = self.rng.choice(((time(9), time(11, 30)), (time(14), time(16, 30))))
                add(
                    "BATH",
                    Recurrence.weekly,
                    window,
                    60,
                    "BATH",
                    days_of_week=(self.rng.choice(workdays),),
                    priority=2,
                )
            # 护理: basic nursing two or three times a week.
            if c.care_level >= 3 and self.rng.random() < 0.55:
                days = tuple(sorted(self.rng.sample(range(7), self.rng.choice((2, 3)))))
                window = self.rng.choice(((time(8), time(10, 30)), (time(14, 30), time(17))))
                add(
                    "NURSE",
                    Recurrence.weekly,
                    window,
                    self.rng.choice((45, 60)),
                    "NURSE",
                    days_of_week=days,
                    priority=2,
                )
            # 助医: a monthly escort to the doctor; the first few fall on the demo day.
            if self.rng.random() < 0.07 or (c.care_level >= 2 and med_today < 3):
                on_day = med_today < 3 and today.day <= 28
                med_today += on_day
                dom = today.day if on_day else self.rng.randint(1, 28)
                add(
                    "MED",
                    Recurrence.monthly,
                    (time(7, 30), time(11)),
                    self.rng.choice((90, 120)),
                    "MED",
                    day_of_month=dom,
                    notes=self.rng.choice(MED_NOTES),
                    priority=2,
                )
            # 助行 and 助聊 for some.
            if 2 <= c.care_level <= 3 and self.rng.random() < 0.1:
                days = tuple(sorted(self.rng.sample(range(7), 2)))
                add(
                    "WALK",
                    Recurrence.weekly,
                    (time(15), time(17)),
                    45,
                    None,
                    days_of_week=days,
                    notes="陪同散步、康复锻炼",
                )
            if (c.notes or "").startswith("独居") and self.rng.random() < 0.2:
                add(
                    "CHAT",
                    Recurrence.weekly,
                    (time(14), time(16, 30)),
                    45,
                    None,
                    days_of_week=(self.rng.choice(range(7)),),
                )
        return rows


def build_district(seed: int, today: date, timezone: str = "Asia/Shanghai") -> District:
    """The whole demo district for ``today``; the same seed and date give the same district."""
    gen = _Gen(seed, today, ZoneInfo(timezone))
    district = District(
        seed=seed, today=today, timezone=timezone, providers=PROVIDERS, services=CATALOGUE
    )
    district.users += [
        UserSpec("admin", Role.admin, None, "平台管理员"),
        UserSpec("finance", Role.finance, None, "义乌市民政局财务审核"),
        UserSpec("supervisor", Role.supervisor, None, "义乌市民政局养老服务科", None, DISTRICT),
        UserSpec(
            "supervisor_street",
            Role.supervisor,
            None,
            f"{SUPERVISED_STREET}社会事务办",
            None,
            DISTRICT,
            (SUPERVISED_STREET,),
        ),
    ]
    for p in PROVIDERS:
        points = gen.points(p)
        district.points.extend(points)
        carers = gen.caregivers(p)
        clients = gen.clients(p, carers)
        district.caregivers.extend(carers)
        district.clients.extend(clients)
        district.plans.extend(gen.plans(p, clients, carers, points))
        district.users.extend(gen.users(p, carers))
    return district
