"""Synthetic OCR benchmark lines in Korean, Japanese, French and English (fake people only).

Each line carries the exact values (phone numbers, e-mails, ID-like digit runs) a redactor must
find, so a benchmark can score exact-value recall as well as character accuracy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

KO_NAMES = ["김민준", "이서연", "박지후", "최수아", "정예준", "강하은", "조도윤", "윤서윤"]
JA_NAMES = ["佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健太", "伊藤 さくら", "渡辺 翔"]
FR_NAMES = ["Élodie Lefèvre", "François Dubois", "Hélène Mercier", "Jérôme Caron", "Aurélie Benoît"]
EN_NAMES = ["Alice Martin", "Robert Hughes", "Emily Carter", "James O'Neil", "Sarah Whitfield"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "test.example.co.kr", "example.jp"]


@dataclass(frozen=True)
class Sample:
    lang: str
    text: str
    values: tuple[str, ...]
    font: str


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _email(rng: random.Random, name: str) -> str:
    user = rng.choice(["alice.martin", "j.dupont", "kim.minjun", "sato.hanako", "r_hughes", "e.lefevre"])
    return f"{user}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"


def _ko(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    phone = f"010-{_digits(rng, 4)}-{_digits(rng, 4)}"
    rrn = f"{_digits(rng, 6)}-{rng.choice('1234')}{_digits(rng, 6)}"
    name, mail = rng.choice(KO_NAMES), _email(rng, "")
    forms = [
        (f"연락처: {phone}", (phone,)),
        (f"고객명 {name} 전화 {phone}", (phone,)),
        (f"주민등록번호 {rrn}", (rrn,)),
        (f"이메일: {mail}", (mail,)),
        (f"{name} 님의 주문이 접수되었습니다", ()),
        (f"담당자 {name} ({mail})", (mail,)),
    ]
    return rng.choice(forms)


def _ja(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    phone = f"090-{_digits(rng, 4)}-{_digits(rng, 4)}"
    mynum = f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}"
    name, mail = rng.choice(JA_NAMES), _email(rng, "")
    forms = [
        (f"電話番号：{phone}", (phone,)),
        (f"氏名 {name} 様", ()),
        (f"個人番号 {mynum}", (mynum,)),
        (f"メール：{mail}", (mail,)),
        (f"お客様 {name}（{phone}）", (phone,)),
        (f"担当者：{name} 内線 {_digits(rng, 4)}", ()),
    ]
    return rng.choice(forms)


def _fr(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    phone = "06 " + " ".join(_digits(rng, 2) for _ in range(4))
    parts = [rng.choice("12"), *(_digits(rng, n) for n in (2, 2, 2, 3, 3))]
    nir = " ".join(parts)
    name, mail = rng.choice(FR_NAMES), _email(rng, "")
    forms = [
        (f"Téléphone : {phone}", (phone,)),
        (f"Client : {name}", ()),
        (f"N° de sécurité sociale : {nir}", (nir,)),
        (f"Courriel : {mail}", (mail,)),
        (f"Rendez-vous confirmé pour {name} à 14h30", ()),
        (f"Réf. dossier {_digits(rng, 8)} — {phone}", (phone,)),
    ]
    return rng.choice(forms)


def _en(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    phone = f"({_digits(rng, 3)}) {_digits(rng, 3)}-{_digits(rng, 4)}"
    card = " ".join(_digits(rng, 4) for _ in range(4))
    name, mail = rng.choice(EN_NAMES), _email(rng, "")
    forms = [
        (f"Phone: {phone}", (phone,)),
        (f"Customer: {name}", ()),
        (f"Card number {card}", (card,)),
        (f"Email: {mail}", (mail,)),
        (f"Ticket #{_digits(rng, 6)} opened by {name}", ()),
        (f"Contact {name} at {mail}", (mail,)),
    ]
    return rng.choice(forms)


_MAKERS = {"ko": _ko, "ja": _ja, "fr": _fr, "en": _en}


def samples(lang: str, n: int, seed: int = 7) -> list[Sample]:
    rng = random.Random(f"{lang}-{seed}")
    font = CJK_FONT if lang in ("ko", "ja") else LATIN_FONT
    return [Sample(lang, *_MAKERS[lang](rng), font) for _ in range(n)]


def render_line(text: str, font_path: str, size: int = 18, width: int = 0, height: int = 40) -> np.ndarray:
    """A `width` x `height` crop (width 0: at least 400, wide enough for the text), text left-aligned."""
    font = ImageFont.truetype(font_path, size)
    width = width or max(400, int(font.getlength(text)) + 20)
    image = Image.new("RGB", (width, height), "white")
    _, top, _, bottom = font.getbbox(text)
    ImageDraw.Draw(image).text((6, (height - (bottom - top)) // 2 - top), text, font=font, fill=(20, 20, 20))
    return np.asarray(image)


def render_frame(lines: list[Sample], size: int = 16, seed: int = 3) -> tuple[np.ndarray, list[Sample]]:
    """A 1920x1080 business-screen-like frame: a two-column table of the given lines."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1920, 1080), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    fonts = {p: ImageFont.truetype(p, size) for p in (CJK_FONT, LATIN_FONT)}
    placed: list[Sample] = []
    y, col = 20, 0
    for s in lines:
        x = 30 + col * 960
        draw.rectangle((x - 8, y - 6, x + 900, y + size + 10), outline=(200, 200, 200))
        draw.text((x, y), s.text, font=fonts[s.font], fill=(rng.randint(0, 60),) * 3)
        placed.append(s)
        col ^= 1
        if col == 0:
            y += size + 22
        if y > 1040:
            break
    return np.asarray(image), placed
