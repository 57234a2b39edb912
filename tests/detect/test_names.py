"""Person-name recognizers: table-driven positives and negatives per language (synthetic names)."""

from __future__ import annotations

import pytest

from veil.detect.names import JapaneseNameRecognizer, KoreanNameRecognizer, LatinNameRecognizer
from veil.models import TextSpan

THRESHOLD = 0.4  # the analyzer's default min_score


def found(spans: list[TextSpan], text: str) -> list[str]:
    return [text[s.start : s.end] for s in spans if s.score >= THRESHOLD]


KO = KoreanNameRecognizer()
JA = JapaneseNameRecognizer()
LATIN = LatinNameRecognizer()


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("김민준 고객님 안녕하세요", "", ["김민준"]),
        ("담당자: 이서연", "", ["이서연"]),
        ("박지훈님이 회의에 참가했습니다", "", ["박지훈"]),
        ("최유진 씨", "", ["최유진"]),
        ("김 민준 님", "", ["김 민준"]),
        ("9602 | 정 새롬 | 010-6875-6564", "", ["정 새롬"]),  # a terminal row, no title
        ("남궁민수 과장", "", ["남궁민수"]),
        ("정하은", "", ["정하은"]),
        ("김민", "고객명", ["김민"]),
        ("이하나", "성명", ["이하나"]),
        # Tesseract's Korean model spaces syllables out, or glues the lead to the name.
        ("받는 사 람 은 임 은 서 , 주 소 는 경기도 수원시", "", ["임 은 서"]),
        ("받는사람은임은서 , 주소는경기도", "", ["임은서"]),
        ("받는 사람은 송건우, 주소는", "", ["송건우"]),
        ("임 은 서 님 안녕하세요", "", ["임 은 서"]),
        ("보낸 사람: 박 지 훈", "", ["박 지 훈"]),
        # Hangul read as Latin letters, or a foreign recipient, right after the lead.
        ("받는 사 람 은 AAS 주 소 는 경기도", "", ["AAS"]),
        ("받는 사람은 John Smith, 주소는", "", ["John Smith"]),
        # A message signed off: the closing after a full name, spaced out or glued to it.
        ("확인 부 탁 드 립니다. 김서영 감 사 합니다.", "", ["김서영"]),
        ("확인부탁드립니다. 김서영감사합니다.", "", ["김서영"]),
        ("부탁드립니다. 동방상훈 드림", "", ["동방상훈"]),
        ("ㅣ승재호", "", ["승재호"]),  # a microphone icon read as a jamo
    ],
)
def test_korean_names(text: str, context: str, expected: list[str]) -> None:
    assert found(KO.analyze(text, context), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "이상 없습니다 정말 감사합니다",
        "이번 정도면 전화 주세요",
        "서울 맑음 23°",
        "이용자 정보",
        "강남구 테헤란로 123",
        "박물관 관람 안내",
        "조회수 1,234",
        "김민",  # two syllables without context: too ambiguous alone
        "신한은행 이체 완료",
        "받는 사람은 이상한 사람입니다",
        "고객 이상한 요청",
        "작성자 정말 좋아요",
        "주 소 는 서 울",
        "이 상 없 습 니 다",
        "정 말 감 사 합 니 다",
        "세 금 계 산서 번호 TAX-2026-53032 로 변경해 주세요.",  # Tesseract's spaced-out syllables
        "제 입금 계좌는",  # "my deposit account": 입금 is a word, not a given name
        # Closings after words that are no names.
        "진심으로 감사합니다",
        "오늘도 감사합니다",
        "이번에도 감사합니다",
        "항상 감사합니다",
        "문의 주셔서 감사합니다",
        "고객센터 드림",
        "이용해 주셔서 감사합니다",
        "관리자 올림",
        "운영팀 드림",
    ],
)
def test_korean_negatives(text: str) -> None:
    assert found(KO.analyze(text), text) == []


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("山田 太郎様", "", ["山田 太郎"]),
        ("佐藤花子", "", ["佐藤花子"]),
        ("田中様", "", ["田中"]),
        ("担当：鈴木", "", ["鈴木"]),
        ("高橋さんからのメール", "", ["高橋"]),
        ("ヤマダ タロウ様", "", ["ヤマダ タロウ"]),
        ("中村", "", ["中村"]),
        ("伊藤 健太", "氏名", ["伊藤 健太"]),
    ],
)
def test_japanese_names(text: str, context: str, expected: list[str]) -> None:
    assert found(JA.analyze(text, context), text) == expected


@pytest.mark.parametrize(
    "text", ["東京 晴れ 18°", "文化の日", "株式会社山田商事", "トヨタ自動車", "大阪府大阪市北区"]
)
def test_japanese_negatives(text: str) -> None:
    assert found(JA.analyze(text), text) == []


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("Dear Marie,", "", ["Marie"]),
        ("Noted. Thanks Anna", "", ["Anna"]),
        ("[10:32] Hi Ann", "", ["Ann"]),
        ("From: John Smith <js@example.com>", "", ["John Smith"]),
        ("Bonjour Mme Dupont", "", ["Dupont"]),
        ("Marie DUPONT", "", ["Marie DUPONT"]),
        ("JM Justin Miller · ORD-2024-380380", "", ["Justin Miller"]),  # avatar initials before it
        ("DUPONT Marie", "", ["DUPONT Marie"]),
        ("Jean Martin a appelé", "", ["Jean Martin"]),
        ("Meeting with Sarah Connor", "", ["Sarah Connor"]),
        ("À : Claire Fontaine", "", ["Claire Fontaine"]),
        ("Mr. Brown", "", ["Brown"]),
        ("Zephyrin Quillard", "Nom", ["Zephyrin Quillard"]),
        # Monospaced OCR reads O as 0.
        ('shipment to="Antoine R0BERT" addr=', "", ["Antoine R0BERT"]),
        ("J0hn Smith", "", ["J0hn Smith"]),
        # Particles and prefixes belong to the surname.
        ("Jean de La Fontaine", "", ["Jean de La Fontaine"]),
        ("Marie-Claire Le Goff a écrit", "", ["Marie-Claire Le Goff"]),
        ("François d'Aubigné", "", ["François d'Aubigné"]),
        ("Charles de Gaulle", "", ["Charles de Gaulle"]),
        ("John O'Brien", "", ["John O'Brien"]),
        # A sign-off: the name on the same line, or alone on the line below it.
        ("Thanks, Sarah", "", ["Sarah"]),
        ("Sarah", "Thanks,", ["Sarah"]),
        ("Sarah", "Best regards,", ["Sarah"]),
        ("Claire", "Bien à vous,", ["Claire"]),
        # Common French first names; a particle in capitals before a surname in capitals.
        ("Véronique Loiseau", "", ["Véronique Loiseau"]),
        ("2026-03-12·Élisabeth Bonnin·#701392", "", ["Élisabeth Bonnin"]),
        ("DE MARÉCHAL Dorothée", "", ["DE MARÉCHAL Dorothée"]),
    ],
)
def test_latin_names(text: str, context: str, expected: list[str]) -> None:
    assert found(LATIN.analyze(text, context), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi AMIE 1544-5528",  # Tesseract reading Hangul as Latin after a greeting: no name
        "Hi Jz og",  # no vowel: not a name
        "x 4H Hi Ao à",  # a greeting amid garbage read off sidebar icons
        "Apple Store",
        "Paris Weather",
        "Samsung Galaxy",
        "Total Energies",
        "May 2024",
        "June 12",
        "Monday Meeting",
        "INF0 shipment order=0RD-2026-613789",
        "H0LL0W P0INT 2024",
        "Tour de France",  # a particle after a word that is no first name
        "Place de la Concorde",
    ],
)
def test_latin_negatives(text: str) -> None:
    assert found(LATIN.analyze(text), text) == []


@pytest.mark.parametrize(
    ("text", "context"), [("Reply", "Thanks,"), ("Reply Forward", "Best,"), ("Envoyer", "Merci,")]
)
def test_a_button_under_a_sign_off_is_no_name(text: str, context: str) -> None:
    assert found(LATIN.analyze(text, context), text) == []


def test_offsets_point_into_original_text() -> None:
    text = "ＦＲＯＭ:　山田　太郎様"  # full-width forms normalise; offsets must still hit the original
    spans = JA.analyze(text)
    assert [text[s.start : s.end] for s in spans] == ["山田　太郎"]
    assert all(s.type == "person_name" for s in spans)


@pytest.mark.parametrize(
    "text",
    ["Georgina Ford", "Brandon Nguyen", "Veronica Garrett", "PORTER Alyssa", "Alyssa PORTER", "Sheila Grant"],
)
def test_census_first_names_and_surnames_make_a_name_without_context(text: str) -> None:
    assert found(LATIN.analyze(text), text) == [text]


@pytest.mark.parametrize("text", ["Will Call", "Summer Sale", "Carter Center", "Grace Period", "Unit Price"])
def test_shop_words_the_census_holds_as_names_stay(text: str) -> None:
    assert found(LATIN.analyze(text), text) == []


def test_missing_census_lists_are_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import resources

    from veil.detect import names
    from veil.exceptions import EngineError

    def gone(package: str) -> None:
        raise ModuleNotFoundError(package)

    names.census_names.cache_clear()
    monkeypatch.setattr(resources, "files", gone)
    try:
        with pytest.raises(EngineError, match="census name lists"):
            names.census_names()
    finally:
        monkeypatch.undo()
        names.census_names.cache_clear()
    assert "Georgina" in names.census_names()[0]


@pytest.mark.parametrize("word", ["Tiffany", "William", "Debra", "Jean-Luc"])
def test_a_first_name_alone_on_its_line_is_a_name(word: str) -> None:
    """A chat message's sender: a given name on a line of its own."""
    assert found(LATIN.analyze(word), word) == [word]
    assert found(LATIN.analyze(f"  {word} "), f"  {word} ") == [word]


@pytest.mark.parametrize(
    "text",
    ["Bill", "Mark", "Page", "Chase", "Home", "Search", "Orders", "Paris", "William Street 12 pending"],
)
def test_a_plain_word_or_a_ui_word_alone_is_no_name(text: str) -> None:
    assert [s for s in LATIN.analyze(text) if s.start == 0 and s.end == len(text)] == []


@pytest.mark.parametrize("text", ["花子", "篤司", "聡太郎", "香織"])
def test_a_japanese_given_name_alone_on_its_line_is_a_name(text: str) -> None:
    assert found(JA.analyze(text), text) == [text]
    assert found(JA.analyze(f"{text}さんの注文"), f"{text}さんの注文") == [
        text
    ]  # with an honorific, as before


@pytest.mark.parametrize("text", ["送信", "検索", "設定", "東京", "注文"])
def test_japanese_ui_words_alone_are_no_names(text: str) -> None:
    assert JA.analyze(text) == []
