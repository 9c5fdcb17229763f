"""Fixed vocabulary of the demo: products, price lists, Hungarian names, places, staff, texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

VAT_RATE = 27
QUOTA_TIERS = ((0, 60), (100_000, 180), (250_000, 360))
PRICE_RISE_PERCENT = 6

# (product_code, product_name, annual_fee, additional_unit_fee) of the first price list.
BASE_PRODUCTS = (
    ("KETTOS", "Kettős könyvelés", 220_000, 55_000),
    ("EGYSZERES", "Egyszeres könyvelés", 60_000, 15_000),
    ("BER", "Bérszámfejtés", 150_000, 40_000),
    ("SZAMLAZO", "Számlázó", 40_000, 10_000),
    ("TARGYI", "Tárgyi eszköz nyilvántartás", 70_000, 20_000),
    ("KESZLET", "Készletnyilvántartás", 90_000, 25_000),
)
# One new product joins each later price list.
LATER_PRODUCTS = (
    ("HR", "Munkaügyi nyilvántartás", 110_000, 30_000),
    ("PENZUGY", "Pénzügyi kimutatások", 120_000, 30_000),
)


@dataclass(frozen=True)
class Product:
    """A product line of a price list (net HUF)."""

    code: str
    name: str
    annual_fee: int
    additional_unit_fee: int


@dataclass(frozen=True)
class PriceList:
    """A published price list with its quota tiers."""

    valid_from: date
    products: dict[str, Product]
    quota_tiers: tuple[tuple[int, int], ...] = QUOTA_TIERS
    vat_rate: int = VAT_RATE

    @property
    def published_on(self) -> date:
        """Price lists are announced a month ahead."""
        return self.valid_from - timedelta(days=30)

    def annual_fee(self, product_code: str, quantity: int) -> int:
        """Net annual support fee of `quantity` units of a product."""
        product = self.products[product_code]
        return product.annual_fee + (quantity - 1) * product.additional_unit_fee

    def quota_minutes(self, annual_fee: int) -> int:
        """Minutes of the highest quota tier the annual fee reaches."""
        return max((minutes for floor, minutes in self.quota_tiers if floor <= annual_fee), default=0)


def _raised(amount: int, rises: int) -> int:
    """An amount after `rises` yearly price rises, rounded to whole thousands."""
    return (amount * (100 + PRICE_RISE_PERCENT * rises) // 100 + 500) // 1000 * 1000


def price_lists(valid_froms: list[date]) -> tuple[PriceList, ...]:
    """The demo price lists, one per `valid_from`, each a little dearer than the last."""
    lists = []
    for rises, valid_from in enumerate(valid_froms):
        rows = BASE_PRODUCTS + LATER_PRODUCTS[:rises]
        products = {
            code: Product(code, name, _raised(fee, rises), _raised(unit, rises)) for code, name, fee, unit in rows
        }
        lists.append(PriceList(valid_from, products))
    return tuple(lists)


SURNAMES = (
    "Kovács",
    "Szabó",
    "Tóth",
    "Nagy",
    "Horváth",
    "Varga",
    "Kiss",
    "Molnár",
    "Németh",
    "Farkas",
    "Balogh",
    "Papp",
    "Takács",
    "Juhász",
    "Mészáros",
    "Simon",
    "Rácz",
    "Fekete",
    "Szilágyi",
    "Török",
)
COMPANY_PATTERNS = (
    "{} és Társa Kft.",
    "{} Könyvelőiroda Bt.",
    "{}-Ker Kft.",
    "{} Építőipari Kft.",
    "{} Pékség Bt.",
    "{} Autójavító Kft.",
    "{} Agrár Zrt.",
    "{} Fogászat Bt.",
    "{} Informatika Kft.",
    "{} Vendéglátó Kft.",
)
# (postal_code, city, county code of the tax number)
CITIES = (
    ("1052", "Budapest", 41),
    ("1117", "Budapest", 43),
    ("6720", "Szeged", 6),
    ("4024", "Debrecen", 9),
    ("7621", "Pécs", 2),
    ("9021", "Győr", 8),
    ("8000", "Székesfehérvár", 7),
    ("3525", "Miskolc", 5),
    ("6000", "Kecskemét", 3),
    ("9400", "Sopron", 8),
    ("8200", "Veszprém", 19),
    ("5000", "Szolnok", 16),
    ("3300", "Eger", 10),
    ("7400", "Kaposvár", 14),
    ("4400", "Nyíregyháza", 15),
    ("9700", "Szombathely", 18),
)
STREETS = (
    "Fő utca",
    "Kossuth Lajos utca",
    "Petőfi Sándor utca",
    "Rákóczi út",
    "Széchenyi tér",
    "Dózsa György út",
    "Arany János utca",
    "Bajcsy-Zsilinszky út",
    "Ady Endre utca",
    "Jókai Mór utca",
)
STAFF = ("Kiss Anna", "Tóth Péter", "Szűcs Réka", "Bódi Gergely", "Fazekas Éva")
PASSWORD_WORDS = ("Balaton", "Tokaji", "Paprika", "Dunakanyar", "Napraforgo", "Hortobagy")

CALL_SUBJECTS = {
    "bug_report": (
        "Nyomtatáskor lefagy a program",
        "Hibás ÁFA-összesítő",
        "Nem indul a frissítés után",
        "Adatmentés hibaüzenettel leáll",
        "NAV-adatszolgáltatás hibát jelez",
    ),
    "help_request": (
        "Új munkahely beállítása",
        "Évnyitás lépései",
        "Jelszó-visszaállítás",
        "Bérjegyzék nyomtatása",
        "Számlakép módosítása",
    ),
    "development_request": ("Egyedi lista igénye", "Exportálás Excel formátumba", "Új bizonylattípus"),
    "consultation": ("Év végi zárás konzultáció", "Devizás tételek könyvelése", "Cafeteria-elszámolás beállítása"),
    "other": ("Számlázási kérdés", "Szerződésmódosítás egyeztetése", "Oktatási igény"),
}
CATEGORY_WEIGHTS = {"bug_report": 25, "help_request": 35, "development_request": 10, "consultation": 20, "other": 10}
CHANNEL_WEIGHTS = {"phone": 40, "email": 25, "remote": 20, "on_site": 5, "portal": 10}
WORK_DESCRIPTIONS = (
    "Telefonos segítségnyújtás",
    "Távoli bejelentkezés, beállítás javítása",
    "Hibakeresés a naplófájlokban",
    "Adatbázis ellenőrzése",
    "Verziófrissítés telepítése",
    "Konzultáció a könyvelési tételekről",
)
RESOLUTIONS = (
    "Beállítás javítva",
    "Frissítés telepítve, a hiba megszűnt",
    "Telefonon elmagyarázva",
    "Fejlesztési igényként rögzítve",
    "Az ügyfél megerősítette a megoldást",
)
REOPEN_REASONS = ("A hiba ismét jelentkezett", "Az ügyfél további segítséget kért")
# (description, net HUF) of one-off services billed as kind `other`.
OTHER_SERVICES = (
    ("Oktatás (4 óra)", 60_000),
    ("Helyszíni kiszállás", 25_000),
    ("Adatkonverzió", 80_000),
    ("Egyedi lista fejlesztése", 150_000),
    ("Telepítés új munkaállomásra", 18_350),
)
