"""Precision/recall and time per line of the name and address recognizers on generated lines.

Run: .venv/bin/python bench/names.py [--n 300] [--seed 7]
Lines are synthetic: names drawn from syllable/given-name pools (not only the shipped lists, so
recall is not measured on the lists themselves), addresses from templates, and decoy lines
(products, companies, weather widgets, order numbers, prices, common words). A line counts as a
true positive when a finding overlaps the planted value, a false positive when a finding lies
on a line with nothing planted or outside the planted value.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from veil.detect.addresses import (
    EnglishAddressRecognizer,
    FrenchAddressRecognizer,
    JapaneseAddressRecognizer,
    KoreanAddressRecognizer,
)
from veil.detect.base import Recognizer
from veil.detect.names import JapaneseNameRecognizer, KoreanNameRecognizer, LatinNameRecognizer

Sample = tuple[str, tuple[int, int] | None]  # line, planted span

KO_SUR = list("김이박최정강조윤장임한오서신권황안송류홍")
KO_GIVEN_SYL = list("민서지현준우연하은도윤수영예진성훈경희주원빈아린")
JA_SUR = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 松本 井上 木村 清水 森田 岡本"
JA_GIVEN = "太郎 花子 健太 美咲 大輔 陽子 翔太 結衣 直樹 恵子 拓也 由美 一郎 真由美 誠 愛"
LA_FIRST = "Marie Jean Pierre Claire Sophie Thomas Julien Camille John Sarah Michael Emily David Laura"
LA_LAST = "Dupont Martin Bernard Moreau Lefebvre Girard Smith Johnson Brown Taylor Wilson Carter Garnier"
KO_NAME_T = [
    "{} 고객님 안녕하세요",
    "담당자: {}",
    "{}님이 입장했습니다",
    "{} 씨에게 전달",
    "{}",
    "보낸 사람 {}",
    "{} 과장",
]
JA_NAME_T = ["{}様", "{}さん、お疲れ様です", "担当：{}", "{}", "差出人 {}"]
LA_NAME_T = ["Dear {},", "From: {} <x@example.com>", "Bonjour {},", "{} joined the meeting", "{}", "À : {}"]
NEG = {
    "ko": [
        "이상 없습니다", "정말 감사합니다", "서울 맑음 23°", "주문번호 2024-118843", "합계 12,000원",
        "삼성전자 갤럭시", "이번 주 정도면 됩니다", "전화 상담 안내", "신한은행 이체 완료",
        "장바구니 담기", "조회수 1,234", "한국어 설정",
    ],
    "ja": [
        "東京 晴れ 18°", "文化の日", "注文番号 123-4567", "価格 1,200円", "トヨタ自動車",
        "株式会社山田商事", "本日のお知らせ", "大阪 くもり", "商品コード A-100", "ログイン",
    ],
    "fr": [
        "Paris 18°C", "Apple Store", "Total Energies", "N° de commande 75008", "Prix 12,50 €", "Mai 2024",
        "Samsung Galaxy", "Mardi 14 mai", "Livraison gratuite", "10000 points",
    ],
    "en": [
        "Paris Weather", "Apple Store", "Order #12345", "$19.99", "May 2024", "Samsung Galaxy",
        "London 14°C", "Monday Meeting", "Free Shipping", "Version 2.1",
    ],
}  # fmt: skip


def ko_name(r: random.Random) -> str:
    given = "".join(r.choice(KO_GIVEN_SYL) for _ in range(2))
    return r.choice(KO_SUR) + (" " if r.random() < 0.15 else "") + given


def ja_name(r: random.Random) -> str:
    return r.choice(JA_SUR.split()) + r.choice(["", " ", "　"]) + r.choice(JA_GIVEN.split())


def la_name(r: random.Random) -> str:
    first, last = r.choice(LA_FIRST.split()), r.choice(LA_LAST.split())
    return r.choice([f"{first} {last}", f"{first} {last.upper()}", f"Mme {last}", f"Mr {last}"])


def ko_addr(r: random.Random) -> str:
    city = r.choice(["서울특별시 강남구", "경기도 성남시 분당구", "부산광역시 해운대구", "대구 수성구"])
    if r.random() < 0.5:
        return f"{city} {r.choice(['테헤란로', '판교역로', '센텀중앙로', '달구벌대로'])} {r.randint(1, 999)}"
    return f"{city} {r.choice(['역삼동', '정자동', '우동'])} {r.randint(1, 999)}-{r.randint(1, 99)}"


def ja_addr(r: random.Random) -> str:
    city = r.choice(
        [
            "東京都渋谷区神宮前",
            "大阪府大阪市北区梅田",
            "神奈川県横浜市西区みなとみらい",
            "愛知県名古屋市中区栄",
        ]
    )
    city = r.choice(["", "〒150-0001 "]) + city
    if r.random() < 0.5:
        return f"{city}{r.randint(1, 9)}-{r.randint(1, 30)}-{r.randint(1, 20)}"
    return f"{city}{r.randint(1, 9)}丁目{r.randint(1, 30)}番{r.randint(1, 20)}号"


def fr_addr(r: random.Random) -> str:
    way = r.choice(
        ["rue de la Paix", "avenue Victor Hugo", "boulevard Saint-Michel", "place de la République"]
    )
    return f"{r.randint(1, 200)} {way}" + r.choice(
        ["", f", {r.choice(['75002 Paris', '69003 Lyon', '13001 Marseille'])}"]
    )


def en_addr(r: random.Random) -> str:
    street = r.choice(["Evergreen Terrace", "Main Street", "Oak Ave", "Sunset Blvd", "High Road"])
    return f"{r.randint(1, 9999)} {street}" + r.choice(["", ", Springfield, IL 62704", ", Apt 4B"])


def _planted(r: random.Random, templates: list[str], make: Callable[[random.Random], str]) -> Sample:
    value = make(r)
    line = r.choice(templates).format(value)
    start = line.index(value)
    return line, (start, start + len(value))


def samples(lang: str, kind: str, n: int, seed: int) -> list[Sample]:
    r = random.Random(seed)
    makers: dict[tuple[str, str], tuple[list[str], Callable[[random.Random], str]]] = {
        ("ko", "name"): (KO_NAME_T, ko_name),
        ("ja", "name"): (JA_NAME_T, ja_name),
        ("fr", "name"): (LA_NAME_T, la_name),
        ("en", "name"): (LA_NAME_T, la_name),
        ("ko", "address"): (["주소: {}", "{}", "배송지 {}"], ko_addr),
        ("ja", "address"): (["住所：{}", "{}", "お届け先 {}"], ja_addr),
        ("fr", "address"): (["Adresse : {}", "{}", "Livraison au {}"], fr_addr),
        ("en", "address"): (["Address: {}", "{}", "Ship to {}"], en_addr),
    }
    templates, make = makers[(lang, kind)]
    out: list[Sample] = [_planted(r, templates, make) for _ in range(n)]
    out += [(r.choice(NEG[lang]), None) for _ in range(n)]
    return out


def measure(recognizer: Recognizer, data: list[Sample]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    recognizer.analyze(data[0][0])  # load models outside the timing
    started = time.perf_counter()
    for line, planted in data:
        spans = [s for s in recognizer.analyze(line) if s.score >= 0.4]
        hit = planted is not None and any(s.start < planted[1] and planted[0] < s.end for s in spans)
        tp += hit
        fn += planted is not None and not hit
        fp += sum(1 for s in spans if planted is None or not (s.start < planted[1] and planted[0] < s.end))
    ms = (time.perf_counter() - started) * 1000 / len(data)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recognizers: dict[tuple[str, str], Recognizer] = {
        ("ko", "name"): KoreanNameRecognizer(),
        ("ja", "name"): JapaneseNameRecognizer(),
        ("fr", "name"): LatinNameRecognizer(),
        ("en", "name"): LatinNameRecognizer(),
        ("ko", "address"): KoreanAddressRecognizer(),
        ("ja", "address"): JapaneseAddressRecognizer(),
        ("fr", "address"): FrenchAddressRecognizer(),
        ("en", "address"): EnglishAddressRecognizer(),
    }
    print(f"{'lang':5}{'type':9}{'precision':>10}{'recall':>8}{'ms/line':>9}")
    for (lang, kind), recognizer in recognizers.items():
        p, rec, ms = measure(recognizer, samples(lang, kind, args.n, args.seed))
        print(f"{lang:5}{kind:9}{p:10.3f}{rec:8.3f}{ms:9.3f}")


if __name__ == "__main__":
    main()
