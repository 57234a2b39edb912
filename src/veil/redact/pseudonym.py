"""Consistent pseudonym labels ("Customer 3", "고객 3", "顧客 3") drawn inside masks.

The same value gets the same number for the whole recording, so an AI reading the redacted frames
can follow "the same customer" across steps. Numbers are handed out in first-seen order per type,
keyed by the finding's HMAC (a host key that never leaves the machine); the HMAC-to-number table
lives in memory for one run only and is never written.
"""

from __future__ import annotations

from functools import cache

from PIL import ImageFont

from veil.models import Finding

# Per type, the word in each script. Faces and unknown types get a generic word.
WORDS: dict[str, tuple[str, str, str]] = {
    "person_name": ("Customer", "고객", "顧客"),
    "phone": ("Phone", "전화", "電話"),
    "email": ("Email", "메일", "メール"),
    "address": ("Address", "주소", "住所"),
    "face": ("Person", "인물", "人物"),
}
GENERIC = ("Value", "값", "値")
SCRIPTS = {"latin": 0, "hangul": 1, "kana": 2}
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


class Pseudonyms:
    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self._counts: dict[str, int] = {}

    def number(self, finding: Finding) -> int:
        key = (finding.type, finding.value_hmac or repr(finding.boxes))
        if key not in self._numbers:
            self._counts[finding.type] = self._counts.get(finding.type, 0) + 1
            self._numbers[key] = self._counts[finding.type]
        return self._numbers[key]

    def label(self, finding: Finding) -> str:
        words = WORDS.get(finding.type, GENERIC)
        return f"{words[SCRIPTS.get(finding.script, 0)]} {self.number(finding)}"


@cache
def label_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)
