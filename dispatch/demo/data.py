"""Static tables of the demo district: Yiwu's sub-districts, roads, names, the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dispatch.models import BillingUnit

# Every demo coordinate lies in this box around urban Yiwu (义乌市), Zhejiang (WGS84).
YIWU_BOX = (29.28, 29.36, 120.03, 120.13)  # lat_min, lat_max, lon_min, lon_max
# The district the providers register in, and the street the demo's street supervisor oversees.
DISTRICT = "义乌市"
SUPERVISED_STREET = "稠城街道"


@dataclass(frozen=True)
class Street:
    """A sub-district (街道): its box, a few real road names and residential compounds."""

    name: str
    box: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max
    roads: tuple[str, ...]
    compounds: tuple[str, ...]
    villages: tuple[str, ...] = ()


STREETS: dict[str, Street] = {
    s.name: s
    for s in (
        Street(
            "稠城街道",
            (29.300, 29.318, 120.062, 120.088),
            ("宾王路", "稠州北路", "县前街", "工人北路", "朝阳路", "北门街", "新马路", "篁园路"),
            ("绣湖小区", "宾王小区", "新马路小区", "县前小区", "朝阳小区", "篁园小区", "锦都花园"),
        ),
        Street(
            "北苑街道",
            (29.325, 29.350, 120.045, 120.075),
            ("雪峰西路", "北苑路", "春风大道", "丹溪北路", "机场路", "凌云路"),
            ("北苑新村", "凌云小区", "春风苑", "丹溪花园", "柳青小区"),
            ("楼西塘村", "王宅村"),
        ),
        Street(
            "稠江街道",
            (29.281, 29.298, 120.035, 120.070),
            ("杨村路", "贝村路", "江滨西路", "城中南路", "四海大道"),
            ("杨村小区", "贝村小区", "江滨花园", "四海苑"),
            ("龙回村", "前店村"),
        ),
        Street(
            "江东街道",
            (29.292, 29.318, 120.090, 120.125),
            ("江东中路", "宗泽路", "青口路", "通惠路", "春晗路", "东洲路"),
            ("江东小区", "青口新村", "宗泽苑", "通惠花园", "春晗小区"),
            ("下骆宅村", "鲇溪村"),
        ),
        Street(
            "后宅街道",
            (29.345, 29.359, 120.070, 120.100),
            ("后宅大街", "遗安路", "新科路", "李祖路"),
            ("后宅新村", "遗安小区", "新科家园"),
            ("李祖村", "塔下洲村", "遗安村"),
        ),
        Street(
            "城西街道",
            (29.295, 29.325, 120.031, 120.055),
            ("城西大街", "西城路", "香溪路", "七一路"),
            ("城西新村", "西城苑", "香溪花园"),
            ("下王村", "分水塘村"),
        ),
        Street(
            "廿三里街道",
            (29.335, 29.359, 120.105, 120.129),
            ("廿三里大街", "华川路", "埠头路", "开元街"),
            ("廿三里新村", "华川小区", "开元花园"),
            ("埠头村", "何宅村"),
        ),
        Street(
            "福田街道",
            (29.318, 29.340, 120.075, 120.105),
            ("福田路", "银海路", "诚信大道", "商城大道", "稠州北路"),
            ("福田小区", "银海花园", "商城家园", "宗塘小区", "福田新村"),
        ),
    )
}


@dataclass(frozen=True)
class ProviderInfo:
    n: int
    code: str
    name: str
    phone: str
    streets: tuple[str, ...]
    clients: int
    caregivers: int
    # service points: (code suffix, name, kind, street)
    points: tuple[tuple[str, str, str, str], ...]


PROVIDERS: tuple[ProviderInfo, ...] = (
    ProviderInfo(
        1,
        "YW-CC",
        "义乌市稠城居家养老服务中心",
        "0579-85521001",
        ("稠城街道", "北苑街道", "城西街道"),
        140,
        18,
        (
            ("CENTRE", "稠城居家养老服务中心", "centre", "稠城街道"),
            ("KITCHEN", "稠城中央厨房", "kitchen", "稠城街道"),
            ("CANTEEN1", "绣湖社区老年食堂", "canteen", "稠城街道"),
            ("CANTEEN2", "北苑老年助餐点", "canteen", "北苑街道"),
        ),
    ),
    ProviderInfo(
        2,
        "YW-JD",
        "义乌市江东颐乐居家养老服务中心",
        "0579-85332002",
        ("江东街道", "稠江街道", "廿三里街道"),
        120,
        16,
        (
            ("CENTRE", "江东居家养老服务中心", "centre", "江东街道"),
            ("KITCHEN", "江东中央厨房", "kitchen", "江东街道"),
            ("CANTEEN1", "杨村社区助餐点", "canteen", "稠江街道"),
            ("CANTEEN2", "廿三里老年食堂", "canteen", "廿三里街道"),
        ),
    ),
    ProviderInfo(
        3,
        "YW-FT",
        "义乌市福田乐龄居家养老服务社",
        "0579-85163003",
        ("福田街道", "后宅街道"),
        100,
        14,
        (
            ("CENTRE", "福田居家养老服务中心", "centre", "福田街道"),
            ("KITCHEN", "福田中央厨房", "kitchen", "福田街道"),
            ("CANTEEN1", "后宅老年食堂", "canteen", "后宅街道"),
        ),
    ),
)

# Surnames common in Yiwu (楼, 骆, 傅, 龚, 金 are typical there) and China at large, weighted.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 10),
    ("陈", 10),
    ("吴", 9),
    ("金", 8),
    ("楼", 8),
    ("朱", 7),
    ("李", 7),
    ("张", 6),
    ("傅", 6),
    ("骆", 5),
    ("龚", 5),
    ("何", 5),
    ("刘", 5),
    ("杨", 4),
    ("黄", 4),
    ("徐", 4),
    ("周", 4),
    ("鲍", 3),
    ("贾", 3),
    ("冯", 3),
    ("方", 3),
    ("丁", 3),
    ("虞", 2),
    ("宗", 2),
    ("叶", 3),
    ("赵", 3),
    ("孙", 2),
    ("胡", 3),
    ("郑", 3),
    ("俞", 2),
    ("蒋", 2),
    ("卢", 2),
)

ELDER_GIVEN_F = (
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "桂兰",
    "凤英",
    "素珍",
    "玉珍",
    "月娥",
    "菊英",
    "彩凤",
    "美华",
    "淑珍",
    "秀珍",
    "金凤",
    "爱珍",
    "雪英",
    "小英",
    "荷花",
    "银娣",
    "春香",
    "杏仙",
)
ELDER_GIVEN_M = (
    "建国",
    "国强",
    "志明",
    "福根",
    "金水",
    "德明",
    "正华",
    "永康",
    "根土",
    "荣华",
    "文华",
    "新民",
    "长根",
    "樟松",
    "国平",
    "有福",
    "土根",
    "明德",
    "关林",
    "宝生",
    "仁法",
    "岳忠",
)
CARER_GIVEN_F = (
    "春梅",
    "丽萍",
    "海燕",
    "红霞",
    "晓燕",
    "美玲",
    "丽华",
    "雪芳",
    "素芬",
    "建芬",
    "秋菊",
    "月琴",
    "小红",
    "燕萍",
    "慧芳",
    "玲娟",
    "翠萍",
    "婷婷",
    "晓丽",
    "艳",
)
CARER_GIVEN_M = ("伟", "军", "建华", "海军", "立新", "志强", "卫东", "建平", "斌")

ELDER_NOTES = (
    "独居，耳背，请大声敲门",
    "家里养狗，进门前请先打电话",
    "糖尿病，低糖饮食",
    "子女在外地，紧急联系人：儿子",
    "轮椅出行，楼层无电梯",
    "高血压，每日服药，请提醒",
    "老伴同住，也需照看",
    "钥匙放在邻居家",
)

MED_NOTES = (
    "陪同至义乌市中心医院复诊",
    "陪同至义乌市中医医院取药",
    "陪同至社区卫生服务中心配药",
    "陪同至浙大四院（义乌）检查",
)

REFUSAL_REASONS = ("性格不合", "曾发生口角", "家属要求更换护理员", "不愿异性护理员上门")


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    name_en: str
    default_duration_min: int
    required_skill: str | None
    caregivers_needed: int
    photo_required: bool
    is_meal: bool
    billing_unit: BillingUnit
    rate: Decimal


# The catalogue of SPEC.md; rates in CNY like the subsidised prices of Zhejiang counties.
CATALOGUE: tuple[ServiceInfo, ...] = (
    ServiceInfo(
        "MEAL",
        "助餐",
        "Meal delivery",
        10,
        None,
        1,
        True,
        True,
        BillingUnit.visit,
        Decimal("15.00"),
    ),
    ServiceInfo(
        "CLEAN", "助洁", "Cleaning", 60, "CLEAN", 1, True, False, BillingUnit.hour, Decimal("40.00")
    ),
    ServiceInfo(
        "BATH", "助浴", "Bathing", 60, "BATH", 2, True, False, BillingUnit.hour, Decimal("80.00")
    ),
    ServiceInfo(
        "WALK",
        "助行",
        "Walking escort",
        60,
        None,
        1,
        False,
        False,
        BillingUnit.hour,
        Decimal("35.00"),
    ),
    ServiceInfo(
        "MED",
        "助医",
        "Medical escort",
        90,
        "MED",
        1,
        True,
        False,
        BillingUnit.hour,
        Decimal("50.00"),
    ),
    ServiceInfo(
        "CALL",
        "助急",
        "Emergency response",
        30,
        None,
        1,
        False,
        False,
        BillingUnit.visit,
        Decimal("30.00"),
    ),
    ServiceInfo(
        "CHAT",
        "助聊",
        "Companionship",
        45,
        None,
        1,
        False,
        False,
        BillingUnit.hour,
        Decimal("30.00"),
    ),
    ServiceInfo(
        "NURSE",
        "护理",
        "Basic nursing",
        60,
        "NURSE",
        1,
        True,
        False,
        BillingUnit.hour,
        Decimal("60.00"),
    ),
    ServiceInfo(
        "VISIT",
        "探访",
        "Check-on visit",
        30,
        None,
        1,
        True,
        False,
        BillingUnit.visit,
        Decimal("20.00"),
    ),
)

PASSWORD = "demo"  # noqa: S105  (the published password of the demo logins)
