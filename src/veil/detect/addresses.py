"""Postal addresses: Korean road-name and lot-number addresses (+ 동/호), Japanese addresses
(〒 postcodes, 都道府県 市区町村 丁目 番地 号 and 1-2-3 forms, buildings), French (number + type
of way + name, postcode + city) and English (number + street + suffix, City, ST ZIP).

An address needs a street-level part (a road, a lot or block number, a postcode); a city name
alone ("서울 맑음 23°", "東京 晴れ", "Paris 18°C") is not one. In a side panel an address runs
over several lines: a short line whose `context` (the line above) is an address is masked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from veil.detect.base import Recognizer
from veil.detect.normalize import normalize
from veil.models import TextSpan

TYPE = "address"
CONTINUATION_SCORE = 0.6


@dataclass(frozen=True, slots=True)
class AddressPattern:
    name: str
    regex: re.Pattern[str]
    score: float


def _p(name: str, regex: str, score: float, flags: int = 0) -> AddressPattern:
    return AddressPattern(name, re.compile(regex, flags), score)


# --- Korean -----------------------------------------------------------------------------------
_KO_REGION = (
    r"(?:서울(?:특별)?시?|부산(?:광역)?시?|대구(?:광역)?시?|인천(?:광역)?시?|광주(?:광역)?시?|대전(?:광역)?시?|"
    r"울산(?:광역)?시?|세종(?:특별자치)?시?|경기도?|강원(?:특별자치)?도?|충청[남북]도|충[남북]|전라[남북]도|"
    r"전북(?:특별자치도)?|전남|경상[남북]도|경[남북]|제주(?:특별자치)?도?)"
)
_KO_ADMIN = r"[가-힣]{1,6}(?:시|군|구)"
# The number inside a road or quarter name, which OCR spaces out: "선릉 17 길", "논현 3 가".
_KO_SPACED_NUMBER = r"(?:[ ]\d{1,3}[ ]?)?"
_KO_NUM = r"\d{1,5}(?:-\d{1,5})?"
# Detail after the number: "(역삼동)", ", 101동 1203호", "5층", "래미안아파트 101동 1203호".
_KO_DETAIL = (
    r"(?:[ ]?\([가-힣0-9, ]{1,20}\))?"
    # Tesseract reads 층 as 증 (a copula or particle may follow: "2층입니다"),
    # and 동 as 5 ("111동 543호" -> "1115 543 호"): a building number with or without 동.
    r"(?:,?[ ]?(?:[가-힣A-Za-z0-9]{1,15}[ ])?(?:\d{1,4}[ ]?(?:동[ ]?)?)?\d{1,5}[ ]?(?:호|층|증)"
    r"(?=입니다|이에요|이고|에|으로|로|[^가-힣]|$))?"
)
_KO_PATTERNS = (
    _p(
        "ko-road",
        rf"(?:{_KO_REGION}[ ]?)?(?:{_KO_ADMIN}[ ]?){{0,2}}(?:[가-힣]{{1,5}}(?:읍|면)[ ]?)?"
        rf"[가-힣0-9]{{1,12}}(?:로|길)[ ]?{_KO_NUM}(?:번길[ ]?{_KO_NUM})?(?![\d가-힣]){_KO_DETAIL}",
        0.75,
    ),
    # The number inside the road's name spaced out by OCR ("강동구선릉 17 길 304"): only after a
    # city, county or district, which prose does not put before "17 길".
    _p(
        "ko-road-spaced",
        rf"(?:{_KO_REGION}[ ]?)?(?:{_KO_ADMIN}[ ]?){{1,2}}[가-힣]{{1,12}}{_KO_SPACED_NUMBER}(?:로|길)[ ]?"
        rf"{_KO_NUM}(?:번길[ ]?{_KO_NUM})?(?![\d가-힣]){_KO_DETAIL}",
        0.75,
    ),
    # A road name OCR turned into Latin letters ("센트럴로" -> "MESES"): region and district
    # before it and a number after it still make a street address.
    _p(
        "ko-road-misread",
        rf"{_KO_REGION}[ ]?(?:{_KO_ADMIN}[ ]?){{1,2}}[A-Za-z]{{2,12}}[ ]?{_KO_NUM}"
        rf"(?![\d가-힣A-Za-z]){_KO_DETAIL}",
        0.7,
    ),
    _p(
        "ko-lot",
        rf"(?:{_KO_REGION}[ ]?)?(?:{_KO_ADMIN}[ ]?){{1,2}}[가-힣0-9]{{1,6}}{_KO_SPACED_NUMBER}"
        r"(?:동|리|가)[ ]?(?:산[ ]?)?"
        rf"{_KO_NUM}(?:[ ]?번지)?(?![\d]){_KO_DETAIL}",
        0.75,
    ),
    _p(
        "ko-unit",
        r"[가-힣A-Za-z0-9]{0,15}(?:아파트|빌라|오피스텔|맨션|타워)?[ ]?\d{1,4}[ ]?동[ ]?\d{1,5}[ ]?호",
        0.7,
    ),
)

# What follows a street address on the same line: a building's name, its wing ("N동", "101동"), a
# floor or a unit ("에이치스퀘어 N동 7층", "래미안 101동 1203호").
_KO_TAIL = (
    r"(?:[ ,]+[가-힣A-Za-z0-9]{1,15}){0,2}?[ ,]+(?:[A-Za-z0-9]{1,4}[ ]?동[ ]?)?"
    r"(?:B|지하[ ]?)?\d{1,4}[ ]?(?:층|호)(?:[ ]?\d{1,5}[ ]?호)?(?![가-힣])"
    # The quarter or the kind of building in brackets after the unit or the number: "1203호
    # (아파트)", "709가 840 (정숙김장읍)"; whatever the OCR read inside ("(WAZA)" for a village's
    # name in a small font), a bracket closing an address belongs to it.
    r"|[ ]?\([^()\n]{1,20}\)"
)

# --- Japanese ---------------------------------------------------------------------------------
_JA_PREF = r"(?:東京都|北海道|(?:京都|大阪)府|[一-龥]{2,3}県)"
_JA_MUNI = r"[一-龥ぁ-んァ-ヶ々ヶ]{1,7}?[市区町村郡]"
_JA_TOWN = r"[一-龥ぁ-んァ-ヶ々ヶ]{0,8}"
_JA_KNUM = r"(?:\d{1,4}|[一二三四五六七八九十]{1,3})"
_JA_BLOCK = (
    rf"(?:{_JA_KNUM}丁目[ ]?(?:\d{{1,4}}(?:番地?|-))?(?:[ ]?\d{{1,4}}号?)?"
    rf"|\d{{1,4}}番地?(?:[ ]?\d{{1,4}}号?)?|\d{{1,4}}-\d{{1,4}}(?:-\d{{1,4}})?)"
)
_JA_BUILDING = (
    r"(?:[ ]?[一-龥ぁ-んァ-ヶーA-Za-z0-9]{1,20}?"
    r"(?:ビル|マンション|ハイツ|タワー|コーポ|レジデンス|荘)?"
    r"[ ]?\d{1,5}(?:号室|号|F|階))?"
)
# A building after the block number, with or without a floor or room: "六本木ヒルズ森タワー 15F".
_JA_TAIL = (
    r"[ ]?[一-龥ぁ-んァ-ヶーA-Za-z0-9・]{1,20}?"
    r"(?:ビル(?:ディング)?|マンション|ハイツ|タワー|コーポ|レジデンス|荘|ヒルズ|プラザ|センター|館|棟|"
    r"ハウス|アパート|テラス|コート|パレス|メゾン)(?:[ ]?\d{1,5}(?:号室|号|F|階)?(?!\d))?"
    r"|[ ]?\d{1,5}(?:号室|F|階)"
    # Any building name with its number ("ハイツ湯本塩原711", "戸島シャルム890", "港区マンション2197号室"):
    # katakana or kanji first (not the hiragana of a sentence going on), a number last.
    r"|[ ]?[ァ-ヶー一-龥][一-龥ァ-ヶーA-Za-z・]{0,19}?\d{1,5}(?:号室|号|F|階)?(?!\d)"
)
# A postcode before the prefecture, with or without 〒: OCR often drops the 〒 mark.
_JA_POST = r"(?:(?:〒[ ]?|(?<![\d-]))\d{3}-\d{4}[ ]?)?"
_JA_PATTERNS = (  # the block pattern first: with its postcode it is one span
    _p(
        "ja-block",
        rf"{_JA_POST}(?:{_JA_PREF}[ ]?)?(?:{_JA_MUNI}[ ]?){{1,2}}{_JA_TOWN}[ ]?{_JA_BLOCK}{_JA_BUILDING}",
        0.8,
    ),
    _p("ja-postcode", r"〒[ ]?\d{3}-?\d{4}", 0.9),
    _p("ja-pref-muni", rf"{_JA_POST}{_JA_PREF}[ ]?{_JA_MUNI}{_JA_TOWN}", 0.55),
)

# --- French -----------------------------------------------------------------------------------
_FR_WAY = (
    r"(?:rue|avenue|av\.?|boulevard|bd|blvd|place|pl\.|chemin|ch\.|allée|allee|impasse|imp\.|quai|cours|"
    r"route|rte|square|passage|voie|faubourg|fbg|rond-point|sentier|lieu-dit|résidence|cité|hameau|parvis|"
    r"esplanade|promenade|villa|ruelle|mail|montée|traverse)"
)
# A word of the tail ("Bât. E", "Appartement 4B") is no word of the street's name.
_FR_TAIL_WORD = (
    r"(?!(?:Bât|Bat|Bâtiment|Batiment|Appartement|Appart|Appt|Apt|Escalier|Esc|Étage|Etage|Porte)\b)"
)
_FR_NAME = (
    r"(?:(?:de la|de l'|du|des|de|d'|l'|la|le|les|saint|sainte)[ ]?)?[A-ZÀ-Ýa-zà-ÿ'-]+"
    rf"(?:[ ](?:de la |de l'|du |des |de |d'|et |sur |en |l')?{_FR_TAIL_WORD}[A-ZÀ-Ý][A-Za-zà-ÿ'-]+){{0,4}}"
)
# Apartment, building, staircase, floor, door after the street: "Appartement 4B", "Bât. C, 3e étage".
_FR_TAIL_PART = (
    r"(?:(?:Appartement|Appart\.?|Appt\.?|Apt\.?|Bâtiment|Batiment|Bât\.?|Båt\.?|Bat\.?|Escalier|Esc\.?|"
    r"Étage|Etage|Porte|Logement|Lot)[ ]?(?:n°[ ]?)?[A-Za-z0-9]{1,6}"
    # A residence is named by words: "Résidence Les Tilleuls", "Résidence du Parc".
    r"|(?:Résidence|Residence)[ ](?:(?:les|le|la|du|des|de)[ ])?[A-ZÀ-Ý][A-Za-zà-ÿ'’-]+"
    r"(?:[ ][A-ZÀ-Ý][A-Za-zà-ÿ'’-]+){0,2}"
    r"|\d{1,2}(?:e|er|ème|eme)[ ](?:étage|etage))(?![\w])"
)
_FR_TAIL = rf",?[ ]{_FR_TAIL_PART}"
# A floor whose number ended the line above ("... 14e" / "étage, 12438 Guyon").
_FR_FLOOR_ALONE = r"(?:étage|etage)"
# Words after a 5-digit number on screens that are counts, not towns ("21591 Customers").
_NOT_CITY = (
    r"(?:Points|Euros|EUR|Customers?|Orders?|Details|Dashboard|Settings|Total|Items?|Results?|"
    r"Invoices?|Accounts?|Users?|Pages?|Messages?|Minutes|Clients?|Commandes?|Produits?|Articles?|"
    r"Résultats?|Factures?|Comptes?|Utilisateurs?|Jours)"
)
# A town's name: capitalised ("Paris", "Saint-Étienne", "L'Haÿ-les-Roses") or in capitals ("PARIS"),
# three letters at least, ending at a word's end. OCR garbage after a number is not one: "Ml",
# "MonDate" (a capital inside a word), "SKU-FR-85163" (a code).
_FR_CITY_WORD = (
    r"(?:[LD]['’])?(?:[A-ZÀ-Ý]{3,}(?:[-'’][A-ZÀ-Ý]+)*"
    r"|[A-ZÀ-Ý][a-zà-ÿ]{2,}(?:[-'’][A-Za-zÀ-ÿ][a-zà-ÿ]*)*)(?![\w\-])"
)
_FR_PATTERNS = (
    _p(
        "fr-street",
        rf"(?<![\w])\d{{1,4}}(?:[ ]?(?:bis|ter|quater|[bBtT])(?![\w]))?,?[ ]{_FR_WAY}[ ]{_FR_NAME}",
        0.85,
        re.IGNORECASE,
    ),
    _p(
        "fr-postcode-city",
        rf"(?<![\w\-/.,])(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\d{{3}}[ ](?!{_NOT_CITY}(?![\w\-]))"
        rf"(?:(?:Le|La|Les)[ ])?{_FR_CITY_WORD}"
        rf"(?:[ ](?!Cedex|CEDEX)(?:sur|sous|en|la|le|les|de|du|lès|{_FR_CITY_WORD})){{0,4}}"
        r"(?:[ ](?:Cedex|CEDEX)(?:[ ]\d{1,2})?)?",
        0.7,
    ),
)

# --- English ----------------------------------------------------------------------------------
_EN_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Ter|"
    r"Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Crescent|Close|Grove|Gardens|Trail|Trl|Alley|Row)"
)
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI FM MH PW"
)
_EN_PATTERNS: tuple[AddressPattern, ...] = (
    _p(
        "en-street",
        rf"(?<![\w-])\d{{1,6}}[A-Za-z]?[ ](?:[NSEW]\.?[ ])?(?:[A-Z0-9][A-Za-z0-9'.-]*[ ]){{1,4}}"
        rf"{_EN_SUFFIX}\.?(?:[ ](?:NW|NE|SW|SE|N|S|E|W))?"
        r"(?![A-Za-z])(?:,?[ ](?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?[ ]?#?[A-Za-z0-9-]+)?",
        0.85,
    ),
    _p(
        "en-city-state-zip",
        rf"(?<![\w])[A-Z][A-Za-z.'-]+(?:[ ][A-Z][A-Za-z.'-]+){{0,3}},[ ]"
        rf"(?:{_STATES.replace(' ', '|')})[ ]\d{{5}}(?:-\d{{4}})?(?!\d)",
        0.85,
    ),
    _p("en-po-box", r"(?<![\w])(?:P\.?[ ]?O\.?[ ]Box|PO[ ]Box|Boîte[ ]postale|BP)[ ]\d{1,6}(?!\d)", 0.75),
    _p("en-uk-postcode", r"(?<![\w])[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}(?![\w])", 0.55),
)


_EN_TAIL = (
    r",?[ ](?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|Bldg|Building|Dept|#)\.?[ ]?#?"
    r"[A-Za-z0-9-]{1,8}(?![\w])"
)
# US military mail: "PSC 1234, Box 5678, APO AE 09012", "Unit 2050 Box 4190, DPO AP 96522".
_EN_MILITARY = (
    _p(
        "en-military-unit",
        r"(?<![\w])(?:PSC|CMR|Unit|USNS|USS)[ ][A-Z0-9][A-Za-z0-9 ]{0,30}?,?[ ]Box[ ]\d{1,5}",
        0.8,
    ),
    _p("en-military-post", r"(?<![\w])(?:APO|FPO|DPO)[ ](?:AA|AE|AP)[ ]\d{5}(?!\d)", 0.85),
)
_EN_PATTERNS = _EN_PATTERNS + _EN_MILITARY


# What an address line never holds: a price, a date, a clock time, an order or ticket code.
_NOT_ADDRESS = re.compile(
    r"[¥€$£₩]\s?\d|\d[\d,.]*\s?(?:円|원|€|EUR|USD)(?![가-힣])|"
    r"\d{4}[-/.年]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2}|"
    r"\b[A-Z]{2,5}-\d{3,}|"
    # an order or ticket number standing alone ("#477432"): a flat number "#12" stays possible
    r"^\s*#\s?\d{4,}\s*$|"
    # a product or order code ("KB974-58", "SKU-XB-5912"), an amount with a decimal comma ("4 669,27")
    r"\b[A-Z]{1,5}\d{2,}-\d{2,}\b|\b\d{1,3}(?:[ .]\d{3})*,\d{2}\b(?![ ,]*[A-Za-zÀ-ÿ]{2,}\.? )"
)


class AddressRecognizer(Recognizer):
    """Postal addresses in one language family (see the subclasses)."""

    name = "address"
    types = (TYPE,)
    patterns: tuple[AddressPattern, ...] = ()
    # Extends a found address over what follows it on the line (building, floor, unit).
    tail: re.Pattern[str] | None = None

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        norm = normalize(text)
        s = norm.text
        found: list[tuple[int, int, float]] = []
        for pattern in self.patterns:
            for m in pattern.regex.finditer(s):
                a, b = _strip(s, m.start(), m.end())
                if b > a and all(b <= x or y <= a for x, y, _ in found):
                    found.append((a, b, pattern.score))
        if not found and context and self._continues(s, context):
            stripped = s.strip()
            a = s.index(stripped)
            found.append((a, a + len(stripped), CONTINUATION_SCORE))
        out = []
        for a, b, score in sorted(found):
            start, end = norm.to_original(a, self._with_tail(s, b))
            out.append(TextSpan(start, end, TYPE, score, self.name))
        return out

    def _with_tail(self, s: str, b: int) -> int:
        while self.tail is not None and (m := self.tail.match(s, b)) is not None and m.end() > b:
            b = m.end()
        return b

    def _continues(self, s: str, context: str) -> bool:
        """A short line under an address line is the rest of that address (side panels). A line
        holding a price, a date, a time or an order code is not: `context` also holds the cells to
        the left, and a table row right of an address cell is no part of it."""
        words = s.split()
        if not words or len(words) > 8 or len(s) > 80 or _NOT_ADDRESS.search(s):
            return False
        ctx = normalize(context).text
        return any(p.regex.search(ctx) for p in self.patterns if p.score >= 0.7)


def _strip(s: str, a: int, b: int) -> tuple[int, int]:
    while a < b and s[a] in " ,":
        a += 1
    while b > a and s[b - 1] in " ,":
        b -= 1
    return a, b


class KoreanAddressRecognizer(AddressRecognizer):
    name = "ko-address"
    languages = ("ko",)
    patterns = _KO_PATTERNS
    tail = re.compile(_KO_TAIL)


class JapaneseAddressRecognizer(AddressRecognizer):
    name = "ja-address"
    languages = ("ja",)
    patterns = _JA_PATTERNS
    tail = re.compile(_JA_TAIL)


# One comma-separated part of a French address next to a found one: the house number alone ("53,
# boulevard ..."), a street with or without its number ("rue de Blanchard"), a building, floor,
# flat or residence, or the postcode and its town, whatever the town's spelling once the rest of
# the address anchors it ("97142 MenardVille").
_FR_PART = re.compile(
    rf"\d{{1,4}}(?:[ ]?(?:bis|ter|quater))?|(?:\d{{1,4}}[ ])?{_FR_WAY}[ ]{_FR_NAME}|{_FR_TAIL_PART}"
    rf"|{_FR_FLOOR_ALONE}"
    r"|(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\d{3}[ ][A-ZÀ-Ý][A-Za-zà-ÿ'’-]{2,}"
    r"(?:[ ](?:sur|sous|en|la|le|les|de|du|lès|[A-ZÀ-Ý][A-Za-zà-ÿ'’-]+)){0,4}",
    re.IGNORECASE,
)


# A line (of the context) ending in a street cut before or inside its name: "81, avenue de",
# "12 rue", "3 bis, boulevard Saint".
_FR_STREET_CUT = re.compile(
    rf"(?<![\w])\d{{1,4}}(?:[ ]?(?:bis|ter|quater))?,?[ ]{_FR_WAY}"
    r"(?:[ ](?:de la|de l'|du|des|de|d'|l'|la|le|les|saint|sainte))?$",
    re.IGNORECASE,
)
# The rest of such a street's name opening the next line, up to its comma: "Pierre,", "la Gare,".
_FR_STREET_REST = re.compile(
    r"[ ]*((?:(?:de|du|des|la|le|les|l'|d')[ ])?[A-ZÀ-Ý][A-Za-zà-ÿ'’-]+(?:[ ][A-Za-zà-ÿ'’-]+){0,3}),"
)


class FrenchAddressRecognizer(AddressRecognizer):
    name = "fr-address"
    languages = ("fr",)
    patterns = _FR_PATTERNS
    tail = re.compile(_FR_TAIL, re.IGNORECASE)

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        """As the patterns find, each span widened over the comma-separated address parts around
        it (`_FR_PART`): a street with no number before a postcode, a residence, a town the
        town pattern would not take, up to a sentence's end."""
        spans = super().analyze(text, context)
        head = _FR_STREET_REST.match(text)
        cut = any(_FR_STREET_CUT.search(c.strip()) for c in context.split("\n"))
        if head is not None and cut:
            # The street's name wrapped: "… Adresse: 81, avenue de" / "Pierre, 23950 Saint Margot".
            spans.append(TextSpan(head.start(1), head.end(1), TYPE, CONTINUATION_SCORE, self.name))
        return _merged([_widened(text, s, _FR_PART, town_rest=True) for s in spans])


# One comma-separated part of an English address: a house or flat ("Studio 16", "019 Amy Meadow
# Apt. 877"), a street or locality ("Molly Island", "North Alex"): a digit or a capital first, five
# words at most, nothing a sentence or another field holds.
_EN_PART = re.compile(r"[0-9A-Z][A-Za-z0-9.'’#-]*(?: [A-Za-z0-9.'’#-]+){0,4}")


class EnglishAddressRecognizer(AddressRecognizer):
    name = "en-address"
    languages = ("en",)
    patterns = _EN_PATTERNS
    tail = re.compile(_EN_TAIL, re.IGNORECASE)

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        """As the patterns find, each span widened over the comma-separated parts around it: a
        postcode, a city with its state and ZIP or a PO box anchors the whole line ("Studio 16,
        Molly Island, North Alex, PE8 9RX"), whatever the street's name."""
        spans = super().analyze(text, context)
        return _merged([_widened(text, s, _EN_PART) for s in spans])


_TOWN_REST = re.compile(r"[ ][A-ZÀ-Ý][A-Za-zà-ÿ'’-]+(?=[ ]?[,.]|[ ]?$)")


def _widened(text: str, span: TextSpan, part: re.Pattern[str], town_rest: bool = False) -> TextSpan:
    """`span` grown over the comma-separated pieces before and after it that `part` matches
    whole; a sentence's end (". ") closes the address."""
    start, end = span.start, span.end
    # The last word of a town the town pattern stopped short of ("02962 Saint" of "02962 Saint
    # CharlesBourg"): one more capitalised word ending the piece.
    rest = _TOWN_REST.match(text, end) if town_rest else None
    if rest is not None:
        head = text[max(start, text.rfind(",", 0, end) + 1) : rest.end()]
        if part.fullmatch(head.strip()):
            end = rest.end()
    while (m := re.search(r"([^,]*),[ ]?$", text[:start])) is not None:
        piece = m.group(1)
        if not part.fullmatch(piece.strip()):
            break
        start = m.start(1) + len(piece) - len(piece.lstrip())
    while (m := re.match(r",[ ]?([^,]*)", text[end:])) is not None:
        piece = m.group(1)
        sentence = re.search(r"\.(?:[ ]|$)", piece)
        piece = (piece[: sentence.start()] if sentence else piece).rstrip()
        if not part.fullmatch(piece):
            break
        end += m.start(1) + len(piece)
        if sentence:
            break
    return TextSpan(start, end, span.type, span.score, span.recognizer)


def _merged(spans: list[TextSpan]) -> list[TextSpan]:
    out: list[TextSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start <= out[-1].end:
            last = out[-1]
            out[-1] = TextSpan(
                last.start, max(last.end, span.end), last.type, max(last.score, span.score), last.recognizer
            )
        else:
            out.append(span)
    return out
