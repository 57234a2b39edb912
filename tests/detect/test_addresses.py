"""Address recognizers: table-driven positives and negatives per language (synthetic addresses)."""

from __future__ import annotations

import pytest

from veil.detect.addresses import (
    EnglishAddressRecognizer,
    FrenchAddressRecognizer,
    JapaneseAddressRecognizer,
    KoreanAddressRecognizer,
)
from veil.detect.base import Recognizer
from veil.detect.registry import default_analyzer

RECOGNIZERS: dict[str, Recognizer] = {
    "ko": KoreanAddressRecognizer(),
    "ja": JapaneseAddressRecognizer(),
    "fr": FrenchAddressRecognizer(),
    "en": EnglishAddressRecognizer(),
}


def found(lang: str, text: str, context: str = "") -> list[str]:
    return [text[s.start : s.end] for s in RECOGNIZERS[lang].analyze(text, context) if s.score >= 0.4]


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        (
            "ko",
            "서울특별시 강남구 테헤란로 123, 101동 1203호",
            ["서울특별시 강남구 테헤란로 123, 101동 1203호"],
        ),
        ("ko", "경기도 성남시 분당구 정자동 178-1", ["경기도 성남시 분당구 정자동 178-1"]),
        (
            "ko",
            "배송지: 부산광역시 해운대구 센텀중앙로 79 (우동)",
            ["부산광역시 해운대구 센텀중앙로 79 (우동)"],
        ),
        ("ko", "래미안아파트 101동 1203호", ["래미안아파트 101동 1203호"]),
        # Tesseract reads 층 as 증; a copula may follow the floor.
        ("ko", "대전광역시 마포구 송도동 220-22, 14 증", ["대전광역시 마포구 송도동 220-22, 14 증"]),
        ("ko", "새 주소는 서울특별시 강남구 테헤란로 12, 3층입니다.", ["서울특별시 강남구 테헤란로 12, 3층"]),
        (
            "ko",
            "대전광역시 해운대구 정자동 743-46, 한빚빌라 1115 543 호",
            ["대전광역시 해운대구 정자동 743-46, 한빚빌라 1115 543 호"],
        ),
        # A road name OCR read as Latin letters, between a district and a number.
        (
            "ko",
            "대전광역시 분당구 MESES 378, 한빚빌라 115 동 1760 호",
            ["대전광역시 분당구 MESES 378, 한빚빌라 115 동 1760 호"],
        ),
        # OCR dropped the 〒 mark: a postcode glued to the prefecture is still part of it.
        (
            "ja",
            "お届け先を846-7406東京都千代田区丸の内1丁目21番5号に変更。",
            ["846-7406東京都千代田区丸の内1丁目21番5号"],
        ),
        ("ja", "〒150-0001 東京都渋谷区神宮前1-2-3", ["〒150-0001 東京都渋谷区神宮前1-2-3"]),
        ("ja", "大阪府大阪市北区梅田1丁目2番3号 梅田ビル5F", ["大阪府大阪市北区梅田1丁目2番3号 梅田ビル5F"]),
        ("ja", "神奈川県横浜市西区みなとみらい2-3-1", ["神奈川県横浜市西区みなとみらい2-3-1"]),
        # Any building name with its number after the block; not the sentence going on.
        (
            "ja",
            "富山県西多摩郡日の出町芝浦36丁目2番7号ハイツ湯本塩原711",
            ["富山県西多摩郡日の出町芝浦36丁目2番7号ハイツ湯本塩原711"],
        ),
        ("ja", "東京都文京区横林8丁目6番9号西関宿シティ744", ["東京都文京区横林8丁目6番9号西関宿シティ744"]),
        (
            "ja",
            "静岡県荒川区需門26丁目6番2号日本堤ハイツ031",
            ["静岡県荒川区需門26丁目6番2号日本堤ハイツ031"],
        ),
        ("ja", "東京都港区芝公園4丁目2番8号にお届けします", ["東京都港区芝公園4丁目2番8号"]),
        # OCR spaces out the number in a road's or quarter's name; the building kind in brackets.
        (
            "ko",
            "광주광역시 강동구압구정 6 길 138 ( 정자서동)",
            ["광주광역시 강동구압구정 6 길 138 ( 정자서동)"],
        ),
        ("ko", "인천광역시 강서구가락 753 로 878", ["인천광역시 강서구가락 753 로 878"]),
        (
            "ko",
            "경상남도 영동군논현 3 가 876-12 106 동 466 호 (아파트)",
            ["경상남도 영동군논현 3 가 876-12 106 동 466 호 (아파트)"],
        ),
        ("fr", "12 rue de la Paix", ["12 rue de la Paix"]),
        ("fr", "3 bis avenue des Champs-Élysées", ["3 bis avenue des Champs-Élysées"]),
        ("fr", "45 boulevard Saint-Michel, 75005 Paris", ["45 boulevard Saint-Michel, 75005 Paris"]),
        # Parts around a found address, joined by commas: a street with no number before a
        # postcode, a residence's name, a town spelled as no town pattern takes, a sentence's end.
        (
            "fr",
            "rue de Blanchard, Résidence Les Tilleuls, apt 1401, 60613 Boulanger",
            ["rue de Blanchard, Résidence Les Tilleuls, apt 1401, 60613 Boulanger"],
        ),
        (
            "fr",
            "53, boulevard Maillot, Bât. E, 9e étage, apt 158, 12839 Sainte AdrienneVille",
            ["53, boulevard Maillot, Bât. E, 9e étage, apt 158, 12839 Sainte AdrienneVille"],
        ),
        (
            "fr",
            "Adresse: 34, chemin Adam, 40215 Pages-la-Forêt. Téléphone 06 88 17 27 76",
            ["34, chemin Adam, 40215 Pages-la-Forêt"],
        ),
        ("fr", "10 rue Neuve, 2 250,00 €, Paiement reçu", ["10 rue Neuve"]),
        # An address wrapped over two lines: the flat number and the floor word start the second.
        ("fr", "831, 02962 Saint CharlesBourg. Téléphone 07.75.84.48.44", ["831, 02962 Saint CharlesBourg"]),
        ("fr", "étage, 12438 Guyon. Téléphone: +33 1 66 13 53 67", ["étage, 12438 Guyon"]),
        ("fr", "75011 Paris est fermé le dimanche", ["75011 Paris"]),
        ("en", "Ship to 742 Evergreen Terrace today please", ["742 Evergreen Terrace"]),
        ("fr", "94240 L'Haÿ-les-Roses", ["94240 L'Haÿ-les-Roses"]),
        ("fr", "72000 Le Mans", ["72000 Le Mans"]),
        ("fr", "75008 PARIS CEDEX 08", ["75008 PARIS CEDEX 08"]),
        ("fr", "13100 Aix-en-Provence", ["13100 Aix-en-Provence"]),
        ("en", "1600 Pennsylvania Avenue NW", ["1600 Pennsylvania Avenue NW"]),
        ("en", "Springfield, IL 62704", ["Springfield, IL 62704"]),
        ("en", "742 Evergreen Terrace, Apt 4B", ["742 Evergreen Terrace, Apt 4B"]),
        ("en", "PO Box 123", ["PO Box 123"]),
    ],
)
def test_addresses(lang: str, text: str, expected: list[str]) -> None:
    assert found(lang, text) == expected


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ko", "서울 맑음 23°"),
        ("ko", "주문번호 2024-1188"),
        ("ko", "합계 12,000원"),
        ("ja", "東京 晴れ"),
        ("ja", "注文番号 123-4567"),
        ("ja", "価格 1,200円"),
        ("fr", "Paris 18°C"),
        ("fr", "N° de commande 75008"),
        ("fr", "Prix 12,50 €"),
        ("fr", "10000 points"),
        ("fr", "Livraison, 75011 Commandes en attente"),
        # OCR garbage after a number: not a town
        ("fr", "25325 Ml 주 문"),
        ("fr", "17152 MonDate de naissance"),
        ("fr", "ORD-2024-5 38203 SKU-FR-85163-B"),
        ("en", "Order #12345"),
        ("en", "$19.99"),
        ("en", "London 14°C cloudy"),
        ("ko", "강남구 Apple 12"),
        ("ko", "3층짜리 건물"),
        ("ko", "이동 거리 17 길 304"),
        ("ko", "총 3 로 442개"),
        ("ja", "電話 03-1234-5678"),
        ("ja", "注文 123-4567 東京 晴れ"),
    ],
)
def test_negatives(lang: str, text: str) -> None:
    assert found(lang, text) == []


def test_multi_line_address_masks_every_line() -> None:
    lines = ["742 Evergreen Terrace", "Apt 4B", "Springfield, IL 62704"]
    hits = [found("en", line, lines[i - 1] if i else "") for i, line in enumerate(lines)]
    assert hits == [["742 Evergreen Terrace"], ["Apt 4B"], ["Springfield, IL 62704"]]
    assert found("en", "Apt 4B") == []  # alone, with no address above, it is not flagged


@pytest.mark.parametrize(
    ("lang", "row", "address_left"),
    [
        ("ja", "ORD-2025-099641 38,518円 2023-01-04", "128-0693京都府京都市左京区下鴨4丁目5番15号"),
        ("ko", "주문 12:45 합계 ₩12,000", "서울특별시 강남구 테헤란로 12"),
        ("en", "INV-20931 $19.99 2024/05/01", "742 Evergreen Terrace"),
        ("fr", "CMD-88123 12,50 € 03/04/2025", "12 rue de la Paix"),
    ],
)
def test_a_table_row_right_of_an_address_is_not_its_continuation(
    lang: str, row: str, address_left: str
) -> None:
    # Context holds the cells to the left too: an address cell there must not spread to the row.
    assert found(lang, row, address_left) == []


@pytest.mark.parametrize(
    "line",
    [
        "12 rue des Lilas, Appartement 4B",
        "12 rue des Lilas, Bât. C, 3e étage",
        "4 avenue Victor Hugo Bât. E, 7e étage, apt 363",  # no comma: "Bât" is no word of the street
        "서울특별시 강남구 테헤란로 123 에이치스퀘어 N동 7층",
        "경기도 성남시 분당구 판교역로 235 에이치스퀘어 N동 7층",
        "東京都港区六本木1-2-3 六本木ヒルズ森タワー",
        "大阪府大阪市北区梅田2-4-9 ブリーゼタワー 12F",
        "742 Evergreen Terrace, Apt 3B, Floor 2",
        "PSC 1234, Box 5678, APO AE 09012",
        "Unit 2050 Box 4190, DPO AP 96522",
        # The village's name in brackets, misread by the OCR in a small font (a busy sheet).
        "전북특별자치도 안산시 단원구강남대 709 가 840 (WAZA) 116 동 1378 호 (아파트)",
    ],
)
def test_an_address_is_masked_with_its_tail(line: str) -> None:
    """Building, wing, floor and unit after the street are part of the address (its head masked
    and its tail readable still tells where someone lives); military addresses too."""
    spans = [s for s in default_analyzer().analyze(line) if s.type == "address"]
    assert [(s.start, s.end) for s in spans] == [(0, len(line))]


@pytest.mark.parametrize(
    ("above", "expected"),
    [
        ("Merci de vérifier. Adresse: 81, avenue de", ["Pierre, 23950 Saint Margot"]),
        ("Livraison au 3 bis, boulevard", ["Pierre, 23950 Saint Margot"]),
        ("Merci de vérifier la commande de", ["23950 Saint Margot"]),  # no street cut above
        ("", ["23950 Saint Margot"]),
    ],
)
def test_a_street_name_wrapped_to_the_next_line_is_masked_with_it(above: str, expected: list[str]) -> None:
    """A chat bubble wrapped "81, avenue de" / "Pierre, 23950 Saint Margot": the name's rest
    opens the next line and is part of the address (a busy chat pane left it readable)."""
    assert found("fr", "Pierre, 23950 Saint Margot. Téléphone à rappeler.", above) == expected
