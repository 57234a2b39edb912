"""Seeded synthetic people for the people-heavy scenes: names, postal addresses, faces, and the
phrases and captions those scenes show them in.

Names are random pairings of common given and family names; addresses are random pairings of
common road names, random house numbers and towns, never looked up, so they locate no one (a
postcode need not match its town). Korean addresses come as road-name (도로명) and lot-number
(지번) forms, Japanese ones with a 〒 postcode, French and English ones as street + postcode/town.

The only photo is scikit-image's public-domain NASA astronaut portrait (`skimage.data.astronaut()`,
provenance in tests/resources/README.md): its face is cropped, resized, mirrored and darkened.
Values live in memory only; never log them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from veil.exceptions import VeilError
from veil.models import Box, Pixels
from veil.synth.fakedata import NAME_TYPE, FakeValue, label_for

ADDRESS_TYPE = "address"
FACE_TYPE = "face"
# An initials avatar (a coloured disc with 1-2 letters) next to a participant's name tag: it
# identifies the person as the name does. A plain round icon or button is a decoy of type ICON_TYPE.
AVATAR_TYPE = "avatar"
ICON_TYPE = "icon"
# Avatar fills (Material-like hues): never pure black or white, so any solid mask changes them.
AVATAR_COLORS: tuple[tuple[int, int, int], ...] = (
    (229, 57, 53), (216, 27, 96), (142, 36, 170), (94, 53, 177), (57, 73, 171), (30, 136, 229),
    (0, 137, 123), (67, 160, 71), (244, 81, 30), (109, 76, 65), (84, 110, 122), (251, 140, 0),
)  # fmt: skip
_GLYPH = (250, 250, 250)
# The face in skimage's astronaut.png (512 x 512), hairline to chin and cheek to cheek, measured by
# eye on the picture (not by the detector under test).
ASTRONAUT_FACE = Box(178, 62, 94, 120)

_GIVEN: dict[str, tuple[str, ...]] = {
    "ko": ("민준", "서연", "도윤", "하윤", "지호", "서준", "지우", "예은", "현우", "수아", "은서", "건우",
           "유진", "태민", "소윤", "준혁", "다은", "시우", "채원", "승민"),
    "ja": ("翔太", "陽菜", "大輝", "美咲", "健太", "結衣", "蓮", "さくら", "拓海", "葵", "悠人", "七海",
           "直樹", "彩", "和也", "真央", "裕子", "誠", "由美", "浩二"),
    "fr": ("Camille", "Léa", "Manon", "Chloé", "Inès", "Julie", "Sophie", "Nathalie", "Hugo", "Louis",
           "Thomas", "Nicolas", "Antoine", "Mathieu", "Julien", "Éric", "Gaëlle", "Hélène", "Baptiste",
           "Théo"),
    "en": ("Emily", "Olivia", "Michael", "James", "Sarah", "David", "Jessica", "Daniel", "Ashley",
           "Matthew", "Hannah", "Ryan", "Megan", "Tyler", "Lauren", "Brandon", "Rachel", "Kevin",
           "Amber", "Justin"),
}  # fmt: skip
_FAMILY: dict[str, tuple[str, ...]] = {
    "ko": ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황",
           "안", "송", "류", "홍", "남궁", "선우"),
    "ja": ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山口",
           "松本", "井上", "木村", "林", "清水", "斎藤", "森", "池田"),
    "fr": ("Martin", "Bernard", "Dubois", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefèvre", "Garcia", "Bertrand", "Roux", "Fournier", "Morel", "Girard",
           "Mercier", "Lambert", "Faure"),
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
           "Taylor", "Moore", "Jackson", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
           "Walker", "Young"),
}  # fmt: skip

_KO_REGIONS = ("서울특별시", "부산광역시", "인천광역시", "대전광역시", "경기도 성남시", "경기도 수원시")
_KO_DISTRICTS = ("강남구", "마포구", "해운대구", "분당구", "연수구", "유성구", "영통구", "서초구", "송파구")
_KO_ROADS = ("테헤란로", "월드컵북로", "해운대로", "판교역로", "센트럴로", "대학로", "도산대로", "올림픽로",
             "중앙로", "백범로")  # fmt: skip
_KO_DONGS = ("역삼동", "서교동", "정자동", "우동", "송도동", "봉명동", "신림동", "방배동", "잠실동")
_KO_BUILDINGS = ("샘플아파트", "한빛빌라", "누리오피스텔", "푸른마을아파트")

_JA_PLACES = (
    ("東京都", "千代田区", "丸の内"), ("東京都", "新宿区", "西新宿"),
    ("神奈川県", "横浜市中区", "山下町"), ("愛知県", "名古屋市中区", "栄"),
    ("福岡県", "福岡市博多区", "博多駅前"), ("大阪府", "大阪市北区", "梅田"),
    ("北海道", "札幌市中央区", "北一条西"), ("京都府", "京都市左京区", "下鴨"),
    ("埼玉県", "さいたま市大宮区", "桜木町"),
)  # fmt: skip
_JA_BUILDINGS = ("サンプルビル", "コーポ見本", "テストハイツ", "みどりマンション")

_FR_WAYS = ("rue", "rue", "avenue", "boulevard", "place", "allée", "impasse", "chemin")
_FR_NAMES = ("des Lilas", "de la République", "Victor Hugo", "du Moulin", "des Écoles", "Jean Jaurès",
             "de la Gare", "Pasteur", "du Général Leclerc", "des Acacias")  # fmt: skip
_FR_TOWNS = (("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"),
             ("44000", "Nantes"), ("59000", "Lille"), ("33000", "Bordeaux"), ("35000", "Rennes"),
             ("67000", "Strasbourg"), ("34000", "Montpellier"))  # fmt: skip

_EN_STREETS = ("Maple", "Oak", "Elm", "Cedar", "Pine", "Washington", "Lake", "Hill", "Park", "Sunset",
               "Willow", "Chestnut")  # fmt: skip
_EN_SUFFIXES = ("Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Dr", "Court", "Way",
                "Boulevard")  # fmt: skip
_EN_TOWNS = (("Springfield", "IL"), ("Riverside", "CA"), ("Franklin", "TN"), ("Greenville", "SC"),
             ("Fairview", "OR"), ("Madison", "WI"), ("Georgetown", "TX"), ("Salem", "MA"),
             ("Portland", "ME"), ("Austin", "TX"))  # fmt: skip

_COMPANIES: dict[str, tuple[str, ...]] = {
    "ko": ("(주)샘플상사", "한빛물산", "누리테크 주식회사", "예시유통"),
    "ja": ("サンプル商事株式会社", "見本物産", "株式会社テスト電機", "例示ロジスティクス"),
    "fr": ("Exemple SAS", "Démo Logistique", "Atelier Modèle SARL", "Société Test"),
    "en": ("Sample Corp", "Example Logistics", "Demo Widgets Inc.", "Acme Supplies"),
}
_CITIES: dict[str, tuple[str, ...]] = {  # a town alone is not an address
    "ko": ("서울", "부산", "대전", "인천"),
    "ja": ("東京", "大阪", "名古屋", "札幌"),
    "fr": ("Paris", "Lyon", "Nantes", "Lille"),
    "en": ("Chicago", "Denver", "Boston", "Seattle"),
}


# Window titles and captions of the people scenes.
SCENE_TEXT: dict[str, tuple[str, str, str, str]] = {  # ko, ja, fr, en
    "app": ("고객관리 시스템", "顧客管理システム", "Gestion clients", "Customer admin"),
    "cs_chat": ("상담 채팅", "チャット対応", "Messagerie client", "Support chat"),
    "crm_card": ("고객 카드", "顧客カード", "Fiche contact", "Contact card"),
    "email": ("받은편지함", "受信トレイ", "Boîte de réception", "Inbox"),
    "shipping_label": ("배송 라벨 출력", "送り状印刷", "Impression des étiquettes", "Print shipping labels"),
    "from": ("보낸사람", "差出人", "De", "From"),
    "to": ("받는사람: 고객지원팀", "宛先: サポート窓口", "À : Service client", "To: Support team"),
    "subject": ("제목: 배송지 변경 ", "件名: お届け先の変更 ", "Objet : changement d'adresse ",
                "Subject: address change "),
    "body": ("요청하신 내용 확인 부탁드립니다.", "ご確認のほどよろしくお願いいたします。",
             "Merci de bien vouloir vérifier ma demande.", "Could you please check my request?"),
    "job": ("영업팀 과장", "営業部 課長", "Responsable commercial", "Account manager"),
    "notes": ("상담 메모", "対応メモ", "Notes", "Notes"),
    "orders": ("최근 주문", "最近の注文", "Dernières commandes", "Recent orders"),
    "sender": ("보내는 분", "ご依頼主", "Expéditeur", "From"),
    "carrier": ("샘플택배", "見本急便", "Colis Démo", "Demo Express"),
    "weight": ("중량 2.4kg", "重量 2.4kg", "Poids 2,4 kg", "Weight 5.2 lb"),
    "people": ("참가자", "参加者", "Participants", "Participants"),
    "meeting": ("주간 운영 회의", "週次定例会議", "Réunion hebdo", "Weekly ops sync"),
    "sheet": ("고객목록_내보내기.xlsx", "顧客一覧_エクスポート.xlsx", "export_clients.xlsx",
              "customers_export.xlsx"),
    "menu": ("파일  편집  보기  삽입  서식  데이터", "ファイル  編集  表示  挿入  書式  データ",
             "Fichier  Édition  Affichage  Insertion  Format  Données",
             "File  Edit  View  Insert  Format  Data"),
}  # fmt: skip

# Phrases of the people scenes that carry names and addresses.
FIELD_LABELS: dict[str, tuple[tuple[str, ...], ...]] = {  # per type: ko, ja, fr, en choices
    NAME_TYPE: (("이름", "고객명", "성함"), ("氏名", "お名前"), ("Nom", "Nom complet"),
                ("Name", "Full name")),
    ADDRESS_TYPE: (("주소", "배송지"), ("住所", "ご住所"), ("Adresse", "Adresse postale"),
                   ("Address", "Mailing address")),
    "phone": (("연락처", "휴대폰"), ("電話番号", "携帯電話"), ("Téléphone", "Portable"), ("Phone", "Mobile")),
    "email": (("이메일",), ("メールアドレス",), ("E-mail", "Courriel"), ("Email",)),
    "date_of_birth": (("생년월일",), ("生年月日",), ("Date de naissance",), ("Date of birth",)),
}  # fmt: skip
SHIP_TO_LABELS: dict[str, tuple[str, str, str]] = {  # the recipient's name, address and phone labels
    "ko": ("받는 분", "주소", "연락처"),
    "ja": ("お名前", "お届け先", "電話番号"),
    "fr": ("Destinataire", "Adresse", "Téléphone"),
    "en": ("Ship to", "Address", "Phone"),
}
TEL_LABEL = {"ko": "전화", "ja": "TEL", "fr": "Tél.", "en": "Tel"}

# Running text: {name} the customer, {other} someone else, {addr} an address, {order} a decoy.
CHAT_LINES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (customer lines, agent lines)
    "ko": (("안녕하세요, {name}입니다. 주문 {order} 배송 문의드려요.", "새 주소는 {addr} 입니다.",
            "받는 사람은 {other}, 주소는 {addr}입니다.", "{other} 님 앞으로 보내 주세요."),
           ("{name} 고객님, 확인 감사합니다.", "{name}님, 배송지를 {addr}(으)로 변경했습니다.",
            "{other} 님께 발송 예정입니다.")),
    "ja": (("{name}と申します。注文{order}の件で連絡しました。", "お届け先を{addr}に変更してください。",
            "受取人は{other}、住所は{addr}です。", "{other}さん宛てに送ってください。"),
           ("{name}様、ご連絡ありがとうございます。", "{name}様、お届け先を{addr}に変更いたしました。",
            "{other}様宛てに発送いたします。")),
    "fr": (("Bonjour, je suis {name}, commande {order}.", "Pouvez-vous livrer au {addr} ?",
            "Le colis est pour {other}, {addr}.", "Merci de l'envoyer à {other}."),
           ("Merci {name}, c'est noté.", "Bien reçu {name}, la nouvelle adresse est {addr}.",
            "Le colis partira au nom de {other}.")),
    "en": (("Hi, this is {name} about order {order}.", "Please ship it to {addr} instead.",
            "It's for my sister {other} at {addr}.", "Please address it to {other}."),
           ("Thanks {name}, I've updated it.", "Got it {name}, new address: {addr}.",
            "The parcel will go out to {other} today.")),
}  # fmt: skip
NOTE_LINES = {
    "ko": "{name}님 요청으로 배송지를 {addr}(으)로 변경함.",
    "ja": "{name}様のご依頼により、お届け先を{addr}に変更。",
    "fr": "À la demande de {name}, livraison au {addr}.",
    "en": "Per {name}, ship future orders to {addr}.",
}
GREETINGS = {
    "ko": "{other}님, 안녕하세요.",
    "ja": "{other}様",
    "fr": "Bonjour {other},",
    "en": "Dear {other},",
}


@dataclass(frozen=True, slots=True)
class Address:
    """One address as shown on one line and as shown over two lines (street, then the rest)."""

    one_line: str
    lines: tuple[str, str]
    short: str  # the street-level part alone, for narrow places (a chat bubble)


def _value(type_: str, language: str, text: str) -> FakeValue:
    label = label_for(type_, language) if type_ == NAME_TYPE else type_
    return FakeValue(type_, language, text, label)


class People:
    """Seeded generator of names, addresses and non-personal look-alikes (companies, towns)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self, language: str) -> FakeValue:
        r = self.rng
        given, family = r.choice(_GIVEN[language]), r.choice(_FAMILY[language])
        if language == "ko":
            text = family + given
        elif language == "ja":
            text = f"{family} {given}" if r.random() < 0.5 else family + given
        elif language == "fr":
            text = r.choice((f"{given} {family}", f"{given} {family}", f"{given} {family.upper()}"))
        else:
            middle = r.choice("ABCDEJKLMRST")
            text = f"{given} {middle}. {family}" if r.random() < 0.15 else f"{given} {family}"
        return _value(NAME_TYPE, language, text)

    def address(self, language: str) -> Address:
        make = {"ko": self._ko, "ja": self._ja, "fr": self._fr, "en": self._en}.get(language)
        if make is None:
            raise VeilError(f"no synthetic addresses for language {language!r}")
        return make()

    def address_value(self, text: str, language: str) -> FakeValue:
        return _value(ADDRESS_TYPE, language, text)

    def face(self, language: str) -> FakeValue:
        return FakeValue(FACE_TYPE, language, "", FACE_TYPE)

    def avatar(self, name: FakeValue) -> FakeValue:
        """The initials avatar of `name`: its text is the initials drawn in the disc."""
        return FakeValue(AVATAR_TYPE, name.language, initials(name.text, name.language), AVATAR_TYPE)

    def icon(self, language: str, glyph: str = "") -> FakeValue:
        return FakeValue(ICON_TYPE, language, glyph, ICON_TYPE, decoy=True)

    def company(self, language: str) -> FakeValue:
        return FakeValue("company", language, self.rng.choice(_COMPANIES[language]), "company", decoy=True)

    def city(self, language: str) -> FakeValue:
        return FakeValue("city", language, self.rng.choice(_CITIES[language]), "city", decoy=True)

    def _ko(self) -> Address:
        r = self.rng
        head = f"{r.choice(_KO_REGIONS)} {r.choice(_KO_DISTRICTS)}"
        if r.random() < 0.65:
            street = f"{r.choice(_KO_ROADS)} {r.randrange(1, 400)}"
            if r.random() < 0.25:
                street = f"{r.choice(_KO_ROADS)}{r.randrange(2, 60)}번길 {r.randrange(1, 80)}"
        else:
            street = f"{r.choice(_KO_DONGS)} {r.randrange(1, 999)}-{r.randrange(1, 60)}"
        detail = r.choice(
            (
                f"{r.randrange(101, 120)}동 {r.randrange(1, 25)}{r.randrange(1, 9):02d}호",
                f"{r.choice(_KO_BUILDINGS)} {r.randrange(101, 120)}동 {r.randrange(101, 2505)}호",
                f"{r.randrange(2, 15)}층",
            )
        )
        return Address(f"{head} {street}, {detail}", (f"{head} {street}", detail), f"{head} {street}")

    def _ja(self) -> Address:
        r = self.rng
        pref, muni, town = r.choice(_JA_PLACES)
        post = f"〒{r.randrange(100, 999)}-{r.randrange(0, 9999):04d}"
        a, b, c = r.randrange(1, 9), r.randrange(1, 30), r.randrange(1, 20)
        block = f"{a}丁目{b}番{c}号" if r.random() < 0.4 else f"{a}-{b}-{c}"
        building = f" {r.choice(_JA_BUILDINGS)}{r.randrange(101, 1205)}号室" if r.random() < 0.5 else ""
        street = f"{pref}{muni}{town}{block}{building}"
        return Address(f"{post} {street}", (post, street), f"{pref}{muni}{town}{block}")

    def _fr(self) -> Address:
        r = self.rng
        num = f"{r.randrange(1, 180)}{' bis' if r.random() < 0.1 else ''}"
        street = f"{num} {r.choice(_FR_WAYS)} {r.choice(_FR_NAMES)}"
        code, town = r.choice(_FR_TOWNS)
        code = code[:2] + f"{r.randrange(0, 20):03d}" if town != "Paris" else f"750{r.randrange(1, 21):02d}"
        return Address(f"{street}, {code} {town}", (street, f"{code} {town}"), street)

    def _en(self) -> Address:
        r = self.rng
        street = f"{r.randrange(10, 9900)} {r.choice(_EN_STREETS)} {r.choice(_EN_SUFFIXES)}"
        if r.random() < 0.3:
            street += r.choice(
                (f", Apt {r.randrange(1, 30)}{r.choice('ABCD')}", f", Suite {r.randrange(100, 900)}")
            )
        town, state = r.choice(_EN_TOWNS)
        rest = f"{town}, {state} {r.randrange(10000, 99999)}"
        return Address(f"{street}, {rest}", (street, rest), street)


@cache
def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())  # type: ignore[no-untyped-call]


def face_picture(face_px: int, mirrored: bool = False, brightness: float = 1.0) -> tuple[Pixels, Box]:
    """A head-and-shoulders crop whose face is `face_px` high, and the face's box in it."""
    if not 16 <= face_px <= 600 or not 0.1 <= brightness <= 1.0:
        raise VeilError("face_px must lie in 16-600 and brightness in 0.1-1.0")
    f = ASTRONAUT_FACE
    # Room around the face: hair above, neck ring below; the name patch lower down stays out.
    crop = Box(f.x - int(f.w * 0.55), f.y - int(f.h * 0.45), int(f.w * 2.1), int(f.h * 1.9))
    scale = face_px / f.h
    size = (max(1, round(crop.w * scale)), max(1, round(crop.h * scale)))
    picture = _astronaut().crop((crop.x, crop.y, crop.x2, crop.y2)).resize(size, Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, dtype=np.float32) * brightness
    # No pure black or white: a redactor's solid fill of that colour would leave those pixels
    # unchanged, and a scorer reading before/after pixels could not tell them covered.
    out = np.clip(pixels, 8, 247).astype(np.uint8)
    fx, fy = (f.x - crop.x) * scale, (f.y - crop.y) * scale
    fw, fh = f.w * scale, f.h * scale
    if mirrored:
        out, fx = out[:, ::-1].copy(), size[0] - fx - fw
    return out, Box(int(fx), int(fy), int(np.ceil(fw)), int(np.ceil(fh)))


def initials(name: str, language: str) -> str:
    """What an app draws in a name's avatar: the given name's syllables in Korean ("민준"), the
    family name's first character in Japanese, the first letters of first and last word else."""
    compact = name.replace(" ", "")
    if language == "ko":
        return compact[-2:] if len(compact) >= 3 else compact[:1]
    if language == "ja":
        return compact[:1]
    words = [w for w in name.replace(".", " ").split() if w[:1].isalpha()]
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper() if words else "?"


def disc_picture(
    diameter: int, fill: tuple[int, int, int], background: tuple[int, int, int], glyphs: str = ""
) -> Pixels:
    """A `diameter`-pixel square: an anti-aliased disc of `fill` on `background`, with `glyphs`
    (initials, or an icon's "+" / "?") centred in it."""
    from veil.synth import _fonts

    if not 8 <= diameter <= 600:
        raise VeilError("diameter must lie in 8-600 px")
    k = 4  # drawn 4x and reduced: an anti-aliased edge, as a browser draws it
    big = Image.new("RGB", (diameter * k, diameter * k), background)
    draw = ImageDraw.Draw(big)
    draw.ellipse((0, 0, diameter * k - 1, diameter * k - 1), fill=fill)
    if glyphs:
        size = max(6, int(diameter * k * (0.42 if len(glyphs) < 2 else 0.34)))
        if glyphs.isascii():
            font = _fonts.latin(size, bold=True)
        else:
            hangul = any("\uac00" <= c <= "\ud7a3" for c in glyphs)
            font = _fonts.cjk(size, "ko" if hangul else "ja", bold=True)
        c = diameter * k / 2
        draw.text((c, c), glyphs, font=font, fill=_GLYPH, anchor="mm")
    small = big.resize((diameter, diameter), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8).copy()
