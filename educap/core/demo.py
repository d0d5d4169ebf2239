"""The demo ministry: a fictional, deterministic education ministry for demos and benchmarks.

`demo_plan` and `demo_staff` are pure (same seed -> same data, no database); `demo_load`
writes the plan in bulk. Primary keys are allotted up front, so every unit's materialised
path and every person's supervisor is known before a row is written: units and staff are
streamed to the database in chunks (COPY on PostgreSQL, `executemany` elsewhere) with no
query per person and one audit event for the whole load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone, translation
from tqdm import tqdm

from educap.accounts.models import Grant, GrantKind, User
from educap.accounts.services import grant_add, user_create
from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.org.models import OrgLevel, OrgUnit
from educap.people.models import Assignment, Person, Role, Vacancy

DEFAULT_STAFF = 5_000
DEFAULT_SEED = 1
MIN_STAFF = 50
# Dates are relative to a fixed day, not today, so a seed gives the same data every day.
AS_OF = dt.date(2025, 9, 1)
EMAIL_DOMAIN = "moe.example"
CHUNK = 10_000

MINISTRY, GOVERNORATE, DISTRICT, SCHOOL = "ministry", "governorate", "district", "school"
LEVELS: tuple[tuple[str, str, str, str, str], ...] = (
    # code, en, ar, fr, lo
    (MINISTRY, "Ministry", "وزارة", "Ministère", "ກະຊວງ"),
    (GOVERNORATE, "Governorate", "محافظة", "Gouvernorat", "ແຂວງ"),
    (DISTRICT, "District", "قضاء", "District", "ເມືອງ"),
    (SCHOOL, "School", "مدرسة", "École", "ໂຮງຮຽນ"),
)
LEVEL_DEPTH = {code: depth for depth, (code, *_names) in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class RoleSpec:
    code: str
    en: str
    ar: str
    fr: str
    lo: str
    is_supervisory: bool
    female_share: float
    born: tuple[int, int]
    description: str


ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("emis_officer", "EMIS officer", "مسؤول نظام معلومات إدارة التعليم", "Chargé du SIGE", "ພະນັກງານ EMIS", False, 0.40, (1965, 1998), "Runs the education management information system: census forms, data quality, reports."),  # noqa: E501
    RoleSpec("data_clerk", "Data clerk", "مدخل بيانات", "Agent de saisie", "ພະນັກງານປ້ອນຂໍ້ມູນ", False, 0.55, (1970, 2000), "Enters and checks school and staff records."),  # noqa: E501
    RoleSpec("statistician", "Statistician", "إحصائي", "Statisticien", "ນັກສະຖິຕິ", False, 0.45, (1965, 1997), "Computes indicators and projections from EMIS data."),  # noqa: E501
    RoleSpec("planner", "Education planner", "مخطط تربوي", "Planificateur de l'éducation", "ນັກວາງແຜນການສຶກສາ", False, 0.40, (1962, 1995), "Prepares sector plans, school mapping and budgets."),  # noqa: E501
    RoleSpec("ict_support", "ICT support officer", "مسؤول دعم تقنية المعلومات", "Technicien informatique", "ພະນັກງານສະໜັບສະໜູນໄອທີ", False, 0.25, (1975, 2000), "Keeps computers, networks and the EMIS software running."),  # noqa: E501
    RoleSpec("finance_officer", "Finance officer", "مسؤول مالي", "Chargé des finances", "ພະນັກງານການເງິນ", False, 0.45, (1962, 1997), "Manages budgets, payments and financial reports."),  # noqa: E501
    RoleSpec("head_teacher", "Head teacher", "مدير مدرسة", "Chef d'établissement", "ຜູ້ອຳນວຍການໂຮງຮຽນ", True, 0.35, (1962, 1985), "Leads a school and supervises its staff."),  # noqa: E501
    RoleSpec("teacher", "Teacher", "معلم", "Enseignant", "ຄູສອນ", False, 0.60, (1964, 2000), "Teaches classes and keeps learner records."),  # noqa: E501
    RoleSpec("district_education_officer", "District education officer", "مدير التعليم في القضاء", "Responsable de l'éducation du district", "ຫົວໜ້າຫ້ອງການສຶກສາເມືອງ", True, 0.30, (1962, 1982), "Heads the district education office and its schools."),  # noqa: E501
    RoleSpec("governorate_director", "Governorate education director", "مدير التربية في المحافظة", "Directeur de l'éducation du gouvernorat", "ຫົວໜ້າພະແນກສຶກສາແຂວງ", True, 0.25, (1962, 1978), "Heads the governorate education directorate."),  # noqa: E501
    RoleSpec("hr_officer", "HR officer", "مسؤول الموارد البشرية", "Chargé des ressources humaines", "ພະນັກງານຊັບພະຍາກອນມະນຸດ", False, 0.55, (1962, 1997), "Handles staffing, appraisals and training records."),  # noqa: E501
    RoleSpec("m_and_e_officer", "M&E officer", "مسؤول المتابعة والتقييم", "Chargé du suivi-évaluation", "ພະນັກງານຕິດຕາມ ແລະ ປະເມີນຜົນ", False, 0.45, (1965, 1997), "Monitors programmes and evaluates their results."),  # noqa: E501
    # Not in the brief's list: someone has to head the ministry's departments.
    RoleSpec("central_director", "Central director", "مدير مركزي", "Directeur central", "ຫົວໜ້າກົມ", True, 0.25, (1962, 1975), "Heads a department of the ministry."),  # noqa: E501
)  # fmt: skip
ROLE_BY_CODE = {role.code: role for role in ROLES}

# Office staff beyond the posts every office has, as (role, weight).
OFFICE_MIX: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    MINISTRY: (
        ("emis_officer", "statistician", "planner", "ict_support", "finance_officer", "hr_officer", "m_and_e_officer", "data_clerk"),  # noqa: E501
        (16, 12, 14, 10, 12, 14, 10, 6),
    ),
    GOVERNORATE: (
        ("emis_officer", "statistician", "planner", "ict_support", "finance_officer", "hr_officer", "m_and_e_officer", "data_clerk"),  # noqa: E501
        (16, 10, 8, 8, 12, 14, 8, 14),
    ),
    DISTRICT: (
        ("emis_officer", "statistician", "planner", "ict_support", "finance_officer", "hr_officer", "m_and_e_officer", "data_clerk"),  # noqa: E501
        (20, 6, 4, 8, 12, 12, 8, 20),
    ),
}  # fmt: skip
# Posts every office has, head first.
OFFICE_CORE: dict[str, tuple[str, ...]] = {
    MINISTRY: ("hr_officer", "emis_officer", "planner", "statistician", "m_and_e_officer"),
    GOVERNORATE: ("governorate_director", "emis_officer", "hr_officer"),
    DISTRICT: ("district_education_officer", "emis_officer"),
}

# (English, Arabic, French after "Gouvernorat ").
GOVERNORATE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("North Plains", "السهول الشمالية", "des Plaines du Nord"),
    ("South Coast", "الساحل الجنوبي", "de la Côte Sud"),
    ("Eastern Highlands", "المرتفعات الشرقية", "des Hautes Terres de l'Est"),
    ("Central Valley", "الوادي الأوسط", "de la Vallée centrale"),
    ("River Delta", "دلتا النهر", "du Delta"),
    ("Western Steppe", "البادية الغربية", "de la Steppe occidentale"),
    ("Northern Mountains", "الجبال الشمالية", "des Montagnes du Nord"),
    ("Southern Oases", "الواحات الجنوبية", "des Oasis du Sud"),
    ("Green Hills", "التلال الخضراء", "des Collines vertes"),
    ("Palm Coast", "ساحل النخيل", "de la Côte des Palmiers"),
    ("Great Lake", "البحيرة الكبرى", "du Grand Lac"),
    ("Eastern Plains", "السهول الشرقية", "des Plaines de l'Est"),
    ("Western Hills", "التلال الغربية", "des Collines de l'Ouest"),
    ("Twin Rivers", "النهرين", "des Deux Rivières"),
    ("Olive Valley", "وادي الزيتون", "de la Vallée des Oliviers"),
    ("High Plateau", "الهضبة العليا", "du Haut Plateau"),
    ("North Coast", "الساحل الشمالي", "de la Côte Nord"),
    ("Southern Plains", "السهول الجنوبية", "des Plaines du Sud"),
    ("Cedar Mountains", "جبال الأرز", "des Monts des Cèdres"),
    ("Golden Sands", "الرمال الذهبية", "des Sables dorés"),
    ("East Coast", "الساحل الشرقي", "de la Côte Est"),
    ("Southern Highlands", "المرتفعات الجنوبية", "des Hautes Terres du Sud"),
    ("Springs", "الينابيع", "des Sources"),
    ("Capital", "العاصمة", "de la Capitale"),
)
# District names are "<prefix> <place>", like "Wadi al-Salam" / "وادي السلام".
DISTRICT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("Wadi", "وادي"), ("Bir", "بئر"), ("Tell", "تل"), ("Ain", "عين"), ("Ras", "رأس"),
    ("Jabal", "جبل"), ("Kafr", "كفر"), ("Deir", "دير"), ("Qasr", "قصر"), ("Marj", "مرج"),
    ("Beit", "بيت"), ("Khirbet", "خربة"), ("Sahl", "سهل"), ("Nahr", "نهر"),
)  # fmt: skip
DISTRICT_PLACES: tuple[tuple[str, str], ...] = (
    ("al-Salam", "السلام"), ("al-Zaytun", "الزيتون"), ("al-Nakhil", "النخيل"),
    ("al-Ward", "الورد"), ("al-Nur", "النور"), ("al-Rumman", "الرمان"), ("al-Tin", "التين"),
    ("al-Sakhr", "الصخر"), ("al-Ghazal", "الغزال"), ("al-Qamar", "القمر"),
    ("al-Jisr", "الجسر"), ("al-Bayda", "البيضاء"), ("al-Khadra", "الخضراء"),
    ("al-Asal", "العسل"), ("al-Luz", "اللوز"), ("al-Karm", "الكرم"),
    ("al-Sindyan", "السنديان"), ("al-Arz", "الأرز"), ("al-Safsaf", "الصفصاف"),
    ("al-Hamam", "الحمام"), ("al-Nisr", "النسر"), ("al-Dhahab", "الذهب"),
    ("al-Fidda", "الفضة"), ("al-Burj", "البرج"), ("al-Nujum", "النجوم"),
    ("al-Shams", "الشمس"), ("al-Hajar", "الحجر"), ("al-Rabie", "الربيع"),
    ("al-Tuffah", "التفاح"), ("al-Inab", "العنب"), ("al-Mishmish", "المشمش"),
    ("al-Raml", "الرمل"), ("al-Ghadir", "الغدير"), ("al-Saqiya", "الساقية"),
    ("al-Marjan", "المرجان"), ("al-Lulu", "اللؤلؤ"), ("al-Hilal", "الهلال"),
    ("al-Fajr", "الفجر"), ("al-Sanawbar", "الصنوبر"), ("al-Yasmin", "الياسمين"),
    ("al-Rihan", "الريحان"), ("al-Khayl", "الخيل"), ("al-Uyun", "العيون"),
    ("al-Sawsan", "السوسن"), ("al-Manara", "المنارة"),
)  # fmt: skip
SCHOOL_NAMES: tuple[tuple[str, str], ...] = (
    ("Al-Nour", "النور"), ("Al-Amal", "الأمل"), ("Ibn Sina", "ابن سينا"),
    ("Ibn Khaldun", "ابن خلدون"), ("Al-Farabi", "الفارابي"), ("Al-Khansa", "الخنساء"),
    ("Al-Rashid", "الرشيد"), ("Al-Andalus", "الأندلس"), ("Al-Falah", "الفلاح"),
    ("Al-Najah", "النجاح"), ("Al-Huda", "الهدى"), ("Al-Mustaqbal", "المستقبل"),
    ("Al-Yasmin", "الياسمين"), ("Al-Zaytuna", "الزيتونة"), ("Al-Fajr", "الفجر"),
    ("Al-Salam", "السلام"), ("Al-Wafa", "الوفاء"), ("Al-Taqaddum", "التقدم"),
    ("Al-Maarifa", "المعرفة"), ("Al-Irfan", "العرفان"), ("Al-Rayan", "الريان"),
    ("Al-Qalam", "القلم"), ("Al-Kindi", "الكندي"), ("Al-Khwarizmi", "الخوارزمي"),
    ("Ibn Rushd", "ابن رشد"), ("Ibn al-Haytham", "ابن الهيثم"), ("Al-Biruni", "البيروني"),
    ("Al-Jahiz", "الجاحظ"), ("Al-Mutanabbi", "المتنبي"), ("Al-Razi", "الرازي"),
    ("Al-Shuruq", "الشروق"), ("Al-Rabie", "الربيع"), ("Al-Nakhil", "النخيل"),
    ("Al-Hikma", "الحكمة"), ("Al-Ihsan", "الإحسان"), ("Al-Tawfiq", "التوفيق"),
    ("Al-Bayan", "البيان"), ("Al-Manara", "المنارة"), ("Al-Nahda", "النهضة"),
    ("Al-Diyaa", "الضياء"), ("Al-Itqan", "الإتقان"), ("Al-Ward", "الورد"),
)  # fmt: skip
# (share, English, Arabic adjective, French before the name)
SCHOOL_TYPES: tuple[tuple[int, str, str, str], ...] = (
    (55, "Primary School", "الابتدائية", "École primaire"),
    (20, "Basic School", "الأساسية", "École fondamentale"),
    (12, "Preparatory School", "الإعدادية", "Collège"),
    (13, "Secondary School", "الثانوية", "Lycée"),
)
MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Ahmad", "أحمد"), ("Mohammed", "محمد"), ("Ali", "علي"), ("Omar", "عمر"),
    ("Khaled", "خالد"), ("Youssef", "يوسف"), ("Hassan", "حسن"), ("Hussein", "حسين"),
    ("Ibrahim", "إبراهيم"), ("Mahmoud", "محمود"), ("Mustafa", "مصطفى"), ("Karim", "كريم"),
    ("Sami", "سامي"), ("Tariq", "طارق"), ("Walid", "وليد"), ("Ziad", "زياد"),
    ("Nabil", "نبيل"), ("Rami", "رامي"), ("Fadi", "فادي"), ("Bilal", "بلال"),
    ("Hamza", "حمزة"), ("Anas", "أنس"), ("Majed", "ماجد"), ("Salim", "سليم"),
    ("Adel", "عادل"), ("Jamal", "جمال"), ("Faisal", "فيصل"), ("Nasser", "ناصر"),
    ("Samir", "سمير"), ("Hisham", "هشام"), ("Imad", "عماد"), ("Osama", "أسامة"),
    ("Yasser", "ياسر"), ("Ayman", "أيمن"), ("Bassam", "بسام"), ("Raed", "رائد"),
    ("Murad", "مراد"), ("Issa", "عيسى"), ("Elias", "إلياس"), ("Jad", "جاد"),
)  # fmt: skip
FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Fatima", "فاطمة"), ("Aisha", "عائشة"), ("Maryam", "مريم"), ("Layla", "ليلى"),
    ("Noor", "نور"), ("Huda", "هدى"), ("Rania", "رانيا"), ("Salma", "سلمى"),
    ("Yasmin", "ياسمين"), ("Amal", "أمل"), ("Hanan", "حنان"), ("Samira", "سميرة"),
    ("Lina", "لينا"), ("Dina", "دينا"), ("Reem", "ريم"), ("Sara", "سارة"),
    ("Zainab", "زينب"), ("Khadija", "خديجة"), ("Mona", "منى"), ("Nadia", "نادية"),
    ("Rasha", "رشا"), ("Suha", "سهى"), ("Abeer", "عبير"), ("Ghada", "غادة"),
    ("Hala", "هالة"), ("Iman", "إيمان"), ("Jumana", "جمانة"), ("Lubna", "لبنى"),
    ("Maha", "مها"), ("Najwa", "نجوى"), ("Rana", "رنا"), ("Sawsan", "سوسن"),
    ("Wafaa", "وفاء"), ("Yara", "يارا"), ("Zeina", "زينة"), ("Asma", "أسماء"),
    ("Basma", "بسمة"), ("Dalia", "داليا"), ("Farah", "فرح"), ("Hiba", "هبة"),
)  # fmt: skip
FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("Haddad", "حداد"), ("Khoury", "خوري"), ("Mansour", "منصور"), ("Saleh", "صالح"),
    ("Hamdan", "حمدان"), ("Qasim", "قاسم"), ("Darwish", "درويش"), ("Al-Masri", "المصري"),
    ("Al-Hashimi", "الهاشمي"), ("Al-Tamimi", "التميمي"), ("Al-Sayed", "السيد"),
    ("Abdullah", "عبد الله"), ("Abdelrahman", "عبد الرحمن"), ("Al-Khatib", "الخطيب"),
    ("Al-Najjar", "النجار"), ("Al-Hakim", "الحكيم"), ("Al-Rifai", "الرفاعي"),
    ("Al-Zoubi", "الزعبي"), ("Barakat", "بركات"), ("Sabbagh", "صباغ"), ("Jaber", "جابر"),
    ("Kanaan", "كنعان"), ("Nassar", "نصار"), ("Othman", "عثمان"), ("Saadeh", "سعادة"),
    ("Al-Shami", "الشامي"), ("Taha", "طه"), ("Yassin", "ياسين"), ("Zayed", "زايد"),
    ("Awad", "عوض"), ("Bakr", "بكر"), ("Daher", "ضاهر"), ("Farhat", "فرحات"),
    ("Ghanem", "غانم"), ("Habib", "حبيب"), ("Ismail", "إسماعيل"), ("Karam", "كرم"),
    ("Lutfi", "لطفي"), ("Moussa", "موسى"), ("Naji", "ناجي"), ("Al-Omari", "العمري"),
    ("Qadri", "قدري"), ("Rashed", "راشد"), ("Salameh", "سلامة"), ("Suleiman", "سليمان"),
    ("Tahan", "طحان"), ("Wahbi", "وهبي"), ("Zaki", "زكي"), ("Al-Amin", "الأمين"),
    ("Al-Bustani", "البستاني"), ("Al-Jaafari", "الجعفري"), ("Al-Kurdi", "الكردي"),
    ("Al-Sharif", "الشريف"), ("Al-Halabi", "الحلبي"), ("Atallah", "عطا الله"),
    ("Hijazi", "حجازي"),
)  # fmt: skip


# --- The plan: pure, deterministic --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitSpec:
    code: str
    level: str
    parent: int | None  # index into DemoPlan.units
    name_en: str
    name_ar: str
    name_fr: str
    name_lo: str
    opened_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class VacancySpec:
    unit: int  # index into DemoPlan.units
    role: str
    count: int
    opened_on: dt.date


@dataclass(frozen=True)
class DemoPlan:
    """Units in level order (ministry, governorates, districts, schools) and who works where."""

    seed: int
    staff: int
    units: list[UnitSpec]
    children: list[range]  # per unit, the indices of its children (contiguous)
    headcount: list[int]  # per unit
    central_directors: int
    vacancies: list[VacancySpec] = field(default_factory=list)

    def count(self, level: str) -> int:
        return sum(1 for unit in self.units if unit.level == level)


def demo_shape(staff: int) -> tuple[int, int, int]:
    """Governorates, districts and schools for a ministry of `staff` people.

    Power laws through (5,000 -> 6, 30, 600) and (1,000,000 -> 20, 600, 120,000): about
    eight staff per school, and more districts per governorate as the country grows.
    """
    governorates = max(1, round(0.866 * staff**0.2272))
    districts = max(governorates, round(0.2431 * staff**0.5654))
    schools = max(districts, round(0.12 * staff))
    return governorates, districts, schools


def _split(total: int, parts: int, rnd: random.Random, minimum: int, sigma: float) -> list[int]:
    """`total` split into `parts` uneven integers, each at least `minimum` (largest remainder)."""
    spare = total - parts * minimum
    if parts <= 0 or spare < 0:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    weights = [rnd.lognormvariate(0.0, sigma) for _ in range(parts)]
    scale = spare / sum(weights)
    shares = [w * scale for w in weights]
    sizes = [minimum + int(s) for s in shares]
    left = total - sum(sizes)
    by_remainder = sorted(range(parts), key=lambda i: int(shares[i]) - shares[i])
    for i in by_remainder[:left]:
        sizes[i] += 1
    return sizes


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _fr_of(name: str) -> str:
    return f"d'{name}" if name[:1].upper() in "AEIOUYÉ" else f"de {name}"


def demo_plan(*, staff: int = DEFAULT_STAFF, seed: int = DEFAULT_SEED) -> DemoPlan:
    """The units, their headcounts and vacancies for `staff` people (no database access)."""
    if staff < MIN_STAFF:
        raise ValueError(f"the demo needs at least {MIN_STAFF} staff")
    # Demo data, not secrets: a seeded PRNG is what makes the demo reproducible.
    rnd = random.Random(f"educap-demo:{seed}:units")  # noqa: S311
    n_gov, n_dist, n_school = demo_shape(staff)
    # Offices grow with the square root of the ministry; schools take everyone else.
    root = math.sqrt(staff)
    central = _clamp(root / 2, 6, 500)
    gov_size, dist_size = _clamp(root / 4, 4, 60), _clamp(root / 8, 3, 25)
    gov_sizes = [max(3, round(gov_size * rnd.uniform(0.8, 1.25))) for _ in range(n_gov)]
    dist_sizes = [max(2, round(dist_size * rnd.uniform(0.8, 1.25))) for _ in range(n_dist)]
    school_staff = staff - central - sum(gov_sizes) - sum(dist_sizes)
    # Every school has a head teacher, a data clerk and at least one teacher.
    n_school = min(n_school, school_staff // 3)
    if n_school < n_dist:
        raise ValueError(f"{staff} staff are too few for {n_dist} districts")
    dists_per_gov = _split(n_dist, n_gov, rnd, 1, 0.3)
    schools_per_dist = _split(n_school, n_dist, rnd, 1, 0.4)
    school_sizes = _split(school_staff, n_school, rnd, 3, 0.5)

    ministry = UnitSpec(
        "MOE",
        MINISTRY,
        None,
        "Ministry of Education",
        "وزارة التربية والتعليم",
        "Ministère de l'Éducation",
        "ກະຊວງສຶກສາທິການ",
    )
    governorates = _governorate_units(n_gov)
    districts = _district_units(governorates, dists_per_gov, rnd)
    schools = _school_units(districts, schools_per_dist, 1 + n_gov, rnd)
    units = [ministry, *governorates, *districts, *schools]
    # Children are contiguous: governorates, then districts by governorate, then schools.
    children = [range(1, 1 + n_gov)]
    for counts, first in ((dists_per_gov, 1 + n_gov), (schools_per_dist, 1 + n_gov + n_dist)):
        for count in counts:
            children.append(range(first, first + count))
            first += count
    children.extend(range(0) for _ in schools)
    return DemoPlan(
        seed=seed,
        staff=staff,
        units=units,
        children=children,
        headcount=[central, *gov_sizes, *dist_sizes, *school_sizes],
        central_directors=_clamp(central / 60, 1, 8),
        vacancies=_plan_vacancies(units, rnd),
    )


def _governorate_units(count: int) -> list[UnitSpec]:
    units = []
    width = max(2, len(str(count)))
    for g in range(count):
        en, ar, fr = GOVERNORATE_NAMES[g % len(GOVERNORATE_NAMES)]
        suffix = f" {g // len(GOVERNORATE_NAMES) + 1}" if g >= len(GOVERNORATE_NAMES) else ""
        units.append(
            UnitSpec(
                f"GOV{g + 1:0{width}d}",
                GOVERNORATE,
                0,
                f"{en}{suffix} Governorate",
                f"محافظة {ar}{suffix}",
                f"Gouvernorat {fr}{suffix}",
                f"{en}{suffix} Governorate",
            )
        )
    return units


def _district_units(
    governorates: Sequence[UnitSpec], per_governorate: Sequence[int], rnd: random.Random
) -> list[UnitSpec]:
    """Districts with names unique in the country ("Wadi al-Salam District")."""
    places = [
        (f"{p} {q}", f"{pa} {qa}") for p, pa in DISTRICT_PREFIXES for q, qa in DISTRICT_PLACES
    ]
    rnd.shuffle(places)
    width = max(2, len(str(max(per_governorate))))
    units: list[UnitSpec] = []
    for g, count in enumerate(per_governorate):
        for d in range(count):
            k = len(units)
            en, ar = places[k % len(places)]
            if k >= len(places):
                en, ar = f"{en} {k // len(places) + 1}", f"{ar} {k // len(places) + 1}"
            units.append(
                UnitSpec(
                    f"{governorates[g].code}-D{d + 1:0{width}d}",
                    DISTRICT,
                    1 + g,
                    f"{en} District",
                    f"قضاء {ar}",
                    f"District {_fr_of(en)}",
                    f"{en} District",
                )
            )
    return units


def _school_units(
    districts: Sequence[UnitSpec], per_district: Sequence[int], first: int, rnd: random.Random
) -> list[UnitSpec]:
    """Schools; a name repeated within a district gets "No. 2" (`first`: index of district 0)."""
    width = max(3, len(str(max(per_district))))
    type_weights = [t[0] for t in SCHOOL_TYPES]
    units = []
    for d, count in enumerate(per_district):
        seen: dict[tuple[int, int], int] = {}
        for s in range(count):
            name = rnd.randrange(len(SCHOOL_NAMES))
            kind = rnd.choices(range(len(SCHOOL_TYPES)), type_weights)[0]
            seen[name, kind] = number = seen.get((name, kind), 0) + 1
            en, ar = SCHOOL_NAMES[name]
            _, type_en, type_ar, type_fr = SCHOOL_TYPES[kind]
            name_en, name_ar, name_fr = (
                f"{en} {type_en}",
                f"مدرسة {ar} {type_ar}",
                f"{type_fr} {en}",
            )
            if number > 1:
                name_en, name_ar, name_fr = (
                    f"{name_en} No. {number}",
                    f"{name_ar} رقم {number}",
                    f"{name_fr} n° {number}",
                )
            opened = dt.date(rnd.randint(1955, 2018), 9, 1)
            code = f"{districts[d].code}-S{s + 1:0{width}d}"
            units.append(
                UnitSpec(code, SCHOOL, first + d, name_en, name_ar, name_fr, name_en, opened)
            )
    return units


def _plan_vacancies(units: Sequence[UnitSpec], rnd: random.Random) -> list[VacancySpec]:
    """About 3% of units have one to three unfilled posts."""
    vacancies = []
    for index, unit in enumerate(units):
        if rnd.random() >= 0.03:
            continue
        if unit.level == SCHOOL:
            role = "teacher" if rnd.random() < 0.85 else "data_clerk"
        else:
            roles, weights = OFFICE_MIX[unit.level]
            role = rnd.choices(roles, weights)[0]
        count = rnd.choices((1, 2, 3), (70, 20, 10))[0]
        opened = AS_OF - dt.timedelta(days=rnd.randrange(20, 720))
        vacancies.append(VacancySpec(index, role, count, opened))
    return vacancies


# (pk, staff_number, given_name, family_name, name_local, sex, birth_year, hire_date,
#  email, unit_pk, role_code, supervisor_pk, assignment start_date); dates are ISO strings.
StaffRow = tuple[int, str, str, str, str, str, int, str, str, int, str, int | None, str]


def _ascii(name: str) -> str:
    return name.lower().replace(" ", "-")


def demo_staff(
    plan: DemoPlan, *, person_base: int = 1, unit_base: int = 1, chunk: int = CHUNK
) -> Iterator[list[StaffRow]]:
    """Everyone in the plan, in chunks, supervisors before the people they supervise.

    Person i (0-based, depth-first through the tree) gets primary key `person_base + i` and
    staff number i + 1; unit j gets primary key `unit_base + j`.
    """
    rnd = random.Random(f"educap-demo:{plan.seed}:staff")  # noqa: S311
    random_, randint, randrange, choice = rnd.random, rnd.randint, rnd.randrange, rnd.choice
    female = [(en, ar, _ascii(en)) for en, ar in FEMALE_NAMES]
    male = [(en, ar, _ascii(en)) for en, ar in MALE_NAMES]
    families = [(en, ar, _ascii(en)) for en, ar in FAMILY_NAMES]
    as_of = AS_OF.toordinal()
    year_start = {year: dt.date(year, 1, 1).toordinal() for year in range(1950, AS_OF.year + 1)}
    iso: dict[int, str] = {}  # ordinal -> ISO date; a few thousand distinct days
    head_of: dict[int, int] = {}  # unit index -> pk of the person in charge
    directors: list[int] = []
    rows: list[StaffRow] = []
    next_pk = person_base

    def roles_for(level: str, size: int) -> list[str]:
        if level == SCHOOL:
            return ["head_teacher", "data_clerk", *["teacher"] * (size - 2)]
        core = list(OFFICE_CORE[level])
        if level == MINISTRY:
            core = ["central_director"] * plan.central_directors + core
        population, weights = OFFICE_MIX[level]
        return (core + rnd.choices(population, weights, k=max(0, size - len(core))))[:size]

    def supervisor_for(index: int, unit: UnitSpec, role: str, position: int) -> int | None:
        if unit.level == MINISTRY:
            if role == "central_director":
                return None if position == 0 else directors[0]
            return choice(directors)
        if position == 0:  # the head of the unit reports to the head of the parent unit
            assert unit.parent is not None
            return directors[0] if unit.parent == 0 else head_of[unit.parent]
        return head_of[index]

    def visit(index: int) -> Iterator[list[StaffRow]]:
        nonlocal rows, next_pk
        unit = plan.units[index]
        unit_pk = unit_base + index
        for position, role in enumerate(roles_for(unit.level, plan.headcount[index])):
            spec = ROLE_BY_CODE[role]
            pk = next_pk
            next_pk += 1
            supervisor = supervisor_for(index, unit, role, position)
            if position == 0:
                head_of[index] = pk
            if role == "central_director":
                directors.append(pk)
            is_female = random_() < spec.female_share
            given, given_ar, given_mail = choice(female if is_female else male)
            family, family_ar, family_mail = choice(families)
            born = randint(*spec.born)
            hire = min(
                year_start[min(born + randint(21, 30), AS_OF.year)] + randrange(365), as_of - 30
            )
            if spec.is_supervisory or random_() < 0.5:
                start = hire + int((as_of - hire) * random_())
            else:
                start = hire
            number = pk - person_base + 1
            for day in (hire, start):
                if day not in iso:
                    iso[day] = dt.date.fromordinal(day).isoformat()
            rows.append(
                (
                    pk,
                    f"EDU{number:07d}",
                    given,
                    family,
                    f"{given_ar} {family_ar}",
                    "F" if is_female else "M",
                    born,
                    iso[hire],
                    f"{given_mail}.{family_mail}.{number}@{EMAIL_DOMAIN}",
                    unit_pk,
                    role,
                    supervisor,
                    iso[start],
                )
            )
            if len(rows) >= chunk:
                yield rows
                rows = []
        for child in plan.children[index]:
            yield from visit(child)

    yield from visit(0)
    if rows:
        yield rows


# --- Writing ------------------------------------------------------------------------------

DEMO_USERNAMES = (
    "admin",
    "central",
    "governorate",
    "district",
    "supervisor",
    "staff",
    "trainer",
    "partner",
)


class DemoError(Exception):
    """The demo cannot be loaded into this database as it is."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    sees: str


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    staff: int
    governorates: int
    districts: int
    schools: int
    vacancies: int
    seconds: float
    logins: list[DemoLogin]


def _insert(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows whose values are ready for the database (ISO dates, adapted datetimes).

    Columns not named get their model default, so a new optional field does not break this.
    """
    meta = model._meta
    concrete = {f.name: f for f in meta.concrete_fields}
    given = [concrete[name] for name in names]
    rest = [f for f in meta.concrete_fields if f not in given and not f.primary_key]
    tail = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [*given, *rest])
    table = connection.ops.quote_name(meta.db_table)
    if tail:
        rows = (tuple(row) + tail for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(given) + len(rest)))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))  # noqa: S608


UNIT_COLUMNS = [
    "id",
    "code",
    "name",
    "name_en",
    "name_ar",
    "name_fr",
    "name_lo",
    "level",
    "parent",
    "path",
    "depth",
    "opened_on",
    "created_at",
    "updated_at",
]
PERSON_COLUMNS = [
    "id",
    "staff_number",
    "given_name",
    "family_name",
    "name_local",
    "sex",
    "birth_year",
    "hire_date",
    "email",
    "is_active",
    "unit",
    "role",
    "supervisor",
    "created_at",
    "updated_at",
]
# is_primary defaults to True and end_date to null.
ASSIGNMENT_COLUMNS = ["id", "person", "role", "unit", "supervisor", "start_date"]


def _unit_rows(
    plan: DemoPlan, *, unit_base: int, level_ids: dict[str, int], now: object
) -> list[tuple[object, ...]]:
    """Rows for UNIT_COLUMNS; parents come first, so each path extends its parent's."""
    paths: list[str] = []
    rows: list[tuple[object, ...]] = []
    for index, unit in enumerate(plan.units):
        pk = unit_base + index
        parent = unit.parent
        paths.append(f"{paths[parent] if parent is not None else ''}{pk}/")
        opened = unit.opened_on.isoformat() if unit.opened_on else None
        names = (unit.name_en, unit.name_en, unit.name_ar, unit.name_fr, unit.name_lo)
        level = level_ids[unit.level]
        parent_pk = None if parent is None else unit_base + parent
        depth = LEVEL_DEPTH[unit.level]
        rows.append((pk, unit.code, *names, level, parent_pk, paths[-1], depth, opened, now, now))
    return rows


def _next_pk(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


@contextlib.contextmanager
def _fast_sqlite() -> Iterator[None]:
    """On SQLite, skip fsync and use a big page cache for the load; a crash loses only the demo."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # SQLite cannot change the safety level inside a transaction
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(synchronous)}")
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")


@contextlib.contextmanager
def _foreign_keys_checked_once(models_: Sequence[type[models.Model]]) -> Iterator[None]:
    """On PostgreSQL, drop these tables' foreign keys for the load and add them back after.

    Django's keys are deferred, so a million rows would queue millions of per-row trigger
    checks for the commit; adding a key back checks it in one join (as pg_restore does).
    Runs inside the load's transaction, so a failure restores the keys with everything else.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        keys = cursor.fetchall()
        _run_queued_checks(cursor)
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        _queue_checks(cursor)
    yield
    with connection.cursor() as cursor:
        _run_queued_checks(cursor)
        for table, name, definition in keys:
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition}")
        _queue_checks(cursor)


@contextlib.contextmanager
def _indexes_built_after(models_: Sequence[type[models.Model]]) -> Iterator[None]:
    """Drop these tables' plain indexes for the load and create them again after.

    Building an index from a million sorted rows is several times faster than updating it a
    million times. Indexes behind primary keys and unique constraints stay. Inside the
    load's transaction, so a failure brings the indexes back with everything else.
    """
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [tables],
            )
        elif connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT quote(name), sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
                tables,
            )
        indexes = cursor.fetchall() if connection.vendor in {"postgresql", "sqlite"} else []
        _run_queued_checks(cursor)
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        _queue_checks(cursor)
    yield
    with connection.cursor() as cursor:
        _run_queued_checks(cursor)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        _queue_checks(cursor)


def _run_queued_checks(cursor: Any) -> None:
    """PostgreSQL refuses DDL on a table with deferred checks queued (say from the wipe)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _queue_checks(cursor: Any) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _ensure_levels() -> dict[str, int]:
    ids = {}
    for depth, (code, en, ar, fr, lo) in enumerate(LEVELS):
        clash = OrgLevel.objects.filter(depth=depth).exclude(code=code).first()
        if clash is not None:
            raise DemoError(
                f"level depth {depth} is already '{clash.code}'; the demo needs '{code}' there"
            )
        level, _ = OrgLevel.objects.update_or_create(
            code=code,
            defaults={
                "depth": depth,
                "name": en,
                "name_en": en,
                "name_ar": ar,
                "name_fr": fr,
                "name_lo": lo,
            },
        )
        ids[code] = level.pk
    return ids


def _ensure_roles() -> dict[str, int]:
    ids = {}
    for spec in ROLES:
        role, _ = Role.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.en,
                "name_en": spec.en,
                "name_ar": spec.ar,
                "name_fr": spec.fr,
                "name_lo": spec.lo,
                "description": spec.description,
                "description_en": spec.description,
                "is_supervisory": spec.is_supervisory,
            },
        )
        ids[spec.code] = role.pk
    return ids


def _demo_users() -> models.QuerySet[User]:
    return User.objects.filter(username__in=DEMO_USERNAMES, email__endswith=f"@{EMAIL_DOMAIN}")


def demo_wipe() -> None:
    """Delete every unit, person, assignment and vacancy, and the demo users.

    Refuses when other records (ratings, enrolments, ...) still point at people or units:
    those belong to someone, so start from a fresh database instead.
    """
    known = {
        (Assignment, "person"),
        (Assignment, "supervisor"),
        (Person, "supervisor"),
        (User, "person"),
        (OrgUnit, "parent"),
        (Person, "unit"),
        (Assignment, "unit"),
        (Vacancy, "unit"),
        (Grant, "unit"),
    }
    # The demo's own campaigns and ratings go with it; anyone else's block the wipe below.
    from educap.assessments.demo import demo_assessments_wipe
    from educap.training.demo_cpd import demo_cpd_wipe
    from educap.training.demo_sessions import demo_sessions_wipe

    demo_sessions_wipe()
    demo_cpd_wipe()
    demo_assessments_wipe()
    blocking = []
    for target in (Person, OrgUnit):
        for rel in target._meta.related_objects:
            related = rel.related_model
            name = rel.field.name
            if (related, name) in known or not isinstance(related, type):
                continue
            if related._default_manager.filter(**{f"{name}__isnull": False}).exists():
                blocking.append(related._meta.label)
    if blocking:
        raise DemoError(
            "other records refer to the staff or units ("
            + ", ".join(sorted(set(blocking)))
            + "); wipe the database instead"
        )
    counts = {"units": OrgUnit.objects.count(), "people": Person.objects.count()}
    _demo_users().delete()
    Grant.objects.filter(unit__isnull=False).delete()
    User.objects.filter(person__isnull=False).update(person=None)
    # Whole-table deletes: the collector would load a million people to null self-references.
    with connection.cursor() as cursor:
        for model in (Vacancy, Assignment, Person, OrgUnit):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    audit_record(
        actor=None,
        action=AuditAction.DELETE,
        object_type="core.demo",
        object_repr="Units, staff and demo users deleted to reload the demo",
        before=counts,
    )


def demo_load(
    *,
    staff: int = DEFAULT_STAFF,
    seed: int = DEFAULT_SEED,
    wipe: bool = False,
    progress: bool = False,
) -> DemoSummary:
    """Write the demo ministry for `staff` people in one transaction (all or nothing)."""
    started = time.monotonic()
    plan = demo_plan(staff=staff, seed=seed)
    loaded = [OrgUnit, Person, Assignment, Vacancy]
    with _fast_sqlite(), transaction.atomic(), translation.override("en"):
        level_ids = _ensure_levels()
        role_ids = _ensure_roles()
        with _foreign_keys_checked_once(loaded):
            if wipe:
                demo_wipe()
            with _indexes_built_after(loaded):
                _write_plan(plan, level_ids=level_ids, role_ids=role_ids, progress=progress)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), loaded):
                cursor.execute(sql)
            if connection.vendor == "postgresql":
                tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in loaded)
                cursor.execute(f"ANALYZE {tables}")
        _create_demo_users()
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type="core.demo",
            object_repr=f"Demo ministry, seed {seed}: {staff} staff, {len(plan.units)} units",
            after={
                "seed": seed,
                "staff": staff,
                "units": len(plan.units),
                "vacancies": len(plan.vacancies),
            },
        )
    return DemoSummary(
        seed=seed,
        staff=staff,
        governorates=plan.count(GOVERNORATE),
        districts=plan.count(DISTRICT),
        schools=plan.count(SCHOOL),
        vacancies=len(plan.vacancies),
        seconds=time.monotonic() - started,
        logins=demo_logins(),
    )


def _write_plan(
    plan: DemoPlan, *, level_ids: dict[str, int], role_ids: dict[str, int], progress: bool
) -> None:
    """Units, then people with their assignments in chunks, then vacancies."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    unit_base, person_base = _next_pk(OrgUnit), _next_pk(Person)
    offset = _next_pk(Assignment) - person_base

    unit_rows = _unit_rows(plan, unit_base=unit_base, level_ids=level_ids, now=now)
    for start in range(0, len(unit_rows), CHUNK):
        _insert(OrgUnit, UNIT_COLUMNS, unit_rows[start : start + CHUNK])
    del unit_rows

    with tqdm(total=plan.staff, unit=" staff", unit_scale=True, disable=not progress) as bar:
        for chunk in demo_staff(plan, person_base=person_base, unit_base=unit_base):
            # StaffRow: pk, number, given, family, local, sex, born, hire, email, unit, role,
            # supervisor, start.
            people = [(*r[:9], True, r[9], role_ids[r[10]], r[11], now, now) for r in chunk]
            _insert(Person, PERSON_COLUMNS, people)
            posts = [(r[0] + offset, r[0], role_ids[r[10]], r[9], r[11], r[12]) for r in chunk]
            _insert(Assignment, ASSIGNMENT_COLUMNS, posts)
            bar.update(len(chunk))

    vacancies = [
        (unit_base + v.unit, role_ids[v.role], v.count, v.opened_on.isoformat())
        for v in plan.vacancies
    ]
    _insert(Vacancy, ("unit", "role", "count", "opened_on"), vacancies)


def _first(unit: str, *roles: str, exclude: Person | None = None, **extra: Any) -> Person:
    people = Person.objects.filter(unit__code=unit, role__code__in=roles, **extra)
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    person = people.order_by("staff_number").first()
    if person is None:
        raise DemoError(f"no {' or '.join(roles)} in {unit}")
    return person


def _create_demo_users() -> None:
    """One account per persona, all with the demo password; existing usernames are left alone."""
    district = OrgUnit.objects.get(code="GOV01-D01")
    school = OrgUnit.objects.filter(parent=district).order_by("code").first()
    assert school is not None
    head = _first(school.code, "head_teacher")
    central = _first("MOE", "hr_officer")
    partner_unit = OrgUnit.objects.filter(code__in=["GOV02", "GOV01"]).order_by("-code").first()
    personas: list[tuple[str, Person | None, list[tuple[str, OrgUnit | None]]]] = [
        ("admin", None, [(GrantKind.SYSTEM_ADMIN, None)]),
        ("central", central, [(GrantKind.CENTRAL_OFFICER, OrgUnit.objects.get(code="MOE"))]),
        (
            "governorate",
            _first("GOV01", "governorate_director"),
            [(GrantKind.UNIT_MANAGER, OrgUnit.objects.get(code="GOV01"))],
        ),
        (
            "district",
            _first(district.code, "district_education_officer"),
            [(GrantKind.UNIT_MANAGER, district)],
        ),
        ("supervisor", head, [(GrantKind.SUPERVISOR, None), (GrantKind.STAFF, None)]),
        ("staff", _first(school.code, "teacher", supervisor=head), [(GrantKind.STAFF, None)]),
        (
            "trainer",
            _first("MOE", "m_and_e_officer", "planner", exclude=central),
            [(GrantKind.TRAINER, None)],
        ),
        ("partner", None, [(GrantKind.PARTNER_VIEWER, partner_unit)]),
    ]
    # One hash for all: the password is public anyway, and Argon2 costs ~0.5 s per call.
    password = make_password(settings.EDUCAP_DEMO_PASSWORD)
    taken = set(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
    for username, person, grants in personas:
        if username in taken:
            continue
        user = user_create(
            actor=None,
            username=username,
            password=None,
            person=person,
            email=person.email if person else f"{username}@{EMAIL_DOMAIN}",
            first_name=person.given_name if person else username.title(),
            last_name=person.family_name if person else "(demo)",
            language="",
        )
        user.password = password
        user.is_superuser = user.is_staff = username == "admin"
        user.save(update_fields=["password", "is_superuser", "is_staff"])
        for kind, unit in grants:
            grant_add(actor=None, user=user, kind=kind, unit=unit)


def _describe(user: User) -> str:
    parts = []
    for grant in user.grants.all():
        unit = grant.unit
        where = f"{unit.code} {unit.name}" if unit is not None else ""
        if grant.kind == GrantKind.SYSTEM_ADMIN:
            parts.append("everything, all settings (system administrator)")
        elif grant.kind == GrantKind.CENTRAL_OFFICER:
            parts.append(f"all staff of {where} and below (central officer)")
        elif grant.kind == GrantKind.UNIT_MANAGER:
            parts.append(f"staff of {where} and below (unit manager)")
        elif grant.kind == GrantKind.SUPERVISOR and user.person_id is not None:
            reports = Person.objects.filter(supervisor_id=user.person_id).count()
            parts.append(f"own record and {reports} direct reports (supervisor)")
        elif grant.kind == GrantKind.STAFF and GrantKind.SUPERVISOR not in {
            g.kind for g in user.grants.all()
        }:
            parts.append("own record only (staff)")
        elif grant.kind == GrantKind.TRAINER:
            parts.append("own training sessions and their participants (trainer)")
        elif grant.kind == GrantKind.PARTNER_VIEWER:
            parts.append(f"aggregates for {where}, no personal data (partner)")
    person = user.person
    if person is not None:
        role = person.role.name if person.role else ""
        unit_code = person.unit.code if person.unit else ""
        parts.append(f"is {person.full_name}, {role} @ {unit_code}")
    return "; ".join(parts)


def demo_logins() -> list[DemoLogin]:
    """The demo accounts that exist, with what each can see."""
    users = {
        user.username: user
        for user in _demo_users()
        .select_related("person__role", "person__unit")
        .prefetch_related("grants__unit")
    }
    return [
        DemoLogin(name, settings.EDUCAP_DEMO_PASSWORD, _describe(users[name]))
        for name in DEMO_USERNAMES
        if name in users
    ]


def logins_table(logins: Sequence[DemoLogin]) -> str:
    """The logins as a plain-text table for the terminal."""
    header = DemoLogin("username", "password", "what they can see")
    width_user = max(len(row.username) for row in [header, *logins])
    width_pass = max(len(row.password) for row in [header, *logins])
    lines = [
        f"{row.username:<{width_user}}  {row.password:<{width_pass}}  {row.sees}"
        for row in [header, *logins]
    ]
    lines.insert(1, f"{'-' * width_user}  {'-' * width_pass}  {'-' * 17}")
    return "\n".join(lines)
