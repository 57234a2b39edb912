"""Label vocabulary and the labelled-value recognizer (layout context, values being typed)."""

from __future__ import annotations

import pytest

from veil.detect.labels import LabelledValueRecognizer, LabelVocabulary, label_type, split_label_value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("이름", "person_name"),
        ("고객명:", "person_name"),
        ("연락처", "phone"),
        ("휴대폰 번호 *", "phone"),
        ("배송지", "address"),
        ("계좌번호", "bank_account"),
        ("氏名：", "person_name"),
        ("お名前", "person_name"),
        ("電話番号", "phone"),
        ("住所", "address"),
        ("口座番号", "bank_account"),
        ("生年月日", "date_of_birth"),
        ("Nom :", "person_name"),
        ("Prénom", "person_name"),
        ("Adresse", "address"),
        ("Téléphone*", "phone"),
        ("E-mail", "email"),
        ("Date de naissance", "date_of_birth"),
        ("Phone Number:", "phone"),
        ("DOB", "date_of_birth"),
        ("Ｎａｍｅ", "person_name"),
    ],
)
def test_label_type(text: str, kind: str) -> None:
    assert label_type(text) == kind


@pytest.mark.parametrize("text", ["Total", "주문번호", "注文番号", "Prix", "Nom de produit", "이상", ""])
def test_not_labels(text: str) -> None:
    assert label_type(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("氏名：山田 太郎", ("person_name", 3)),
        ("연락처: 010-12", ("phone", 5)),
        ("Adresse : 12 rue X", ("address", 10)),
        ("Phone\t555-0100", ("phone", 6)),
        ("Total: 12", None),
        ("이름", None),
        # A number's label and its input box joined into one row: no colon on screen.
        ("Date of birth 01/0", ("date_of_birth", 14)),
        ("생년월일 1990", ("date_of_birth", 5)),
        ("電話番号 090-12", ("phone", 5)),
        ("Téléphone 06 12", ("phone", 10)),
        ("Date 01/02", None),  # no label
        ("Name Sam", None),  # a name's label needs a colon: "Name the file" is prose
        ("Phone number", None),  # no digit after the label
    ],
)
def test_split_label_value(text: str, expected: tuple[str, int] | None) -> None:
    assert split_label_value(text) == expected


def test_extra_labels_from_policy() -> None:
    vocabulary = LabelVocabulary({"사번": "employee_id", "Matricule": "employee_id"})
    assert vocabulary.label_type("사번:") == "employee_id"
    assert vocabulary.label_type("MATRICULE") == "employee_id"
    assert label_type("사번") is None  # the built-in vocabulary is unchanged
    with pytest.raises(ValueError, match="non-empty"):
        LabelVocabulary({"": "phone"})


RECOGNIZER = LabelledValueRecognizer()


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("김민", "고객명", ("김민", "person_name")),
        ("  SKU-0042  ", "Name", ("SKU-0042", "person_name")),  # a cell no content rule would flag
        ("山田 太郎", "氏名", ("山田 太郎", "person_name")),
        ("anything at all", "Adresse", ("anything at all", "address")),
        ("氏名：山田 太郎", "", ("山田 太郎", "person_name")),
        # The row carries its own label; the next field's label on the left does not decide.
        ("Date of birth 01/0", "IBAN", ("01/0", "date_of_birth")),
    ],
)
def test_labelled_value(text: str, context: str, expected: tuple[str, str]) -> None:
    spans = RECOGNIZER.analyze(text, context)
    assert [(text[s.start : s.end], s.type) for s in spans] == [expected]
    assert spans[0].score == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "context"),
    [("김민", "주문번호"), ("12,000원", "합계"), ("-", "연락처"), ("", "연락처"), ("전화번호", "연락처")],
)
def test_no_labelled_value(text: str, context: str) -> None:
    assert RECOGNIZER.analyze(text, context) == []


@pytest.mark.parametrize(
    ("label", "keystrokes"),
    [
        ("연락처", ["0", "01", "010", "010-", "010-1", "010-12", "010-123", "010-1234-5", "010-1234-5678"]),
        ("고객명", ["김", "김민", "김민준"]),
        ("電話番号", ["0", "09", "090-", "090-12", "090-1234-5678"]),
        ("Téléphone", ["0", "06", "06 1", "06 12 34", "06 12 34 56 78"]),
    ],
)
def test_typing_never_leaks_a_prefix(label: str, keystrokes: list[str]) -> None:
    for typed in keystrokes:
        spans = RECOGNIZER.analyze(typed, label)
        assert len(spans) == 1, typed
        assert (spans[0].start, spans[0].end) == (0, len(typed))


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("생년월일 (YYYY.MM.DD)", "date_of_birth"),
        ("Date of birth (dd/mm/yyyy)", "date_of_birth"),
        ("SSN (for the tax form)", "us_ssn"),
        ("Phone (mobile)", "phone"),
        ("birth_date", "date_of_birth"),  # a database column in a terminal
        ("first_name", "person_name"),
        ("Total (EUR)", None),
        ("order_id", None),
    ],
)
def test_hints_in_brackets_and_snake_case_columns_are_labels(label: str, kind: str | None) -> None:
    assert label_type(label) == kind


@pytest.mark.parametrize(
    ("text", "context", "value"),
    [
        ("保存", "氏名", "田中花子"),
        ("Reply  Forward  Create ticket", "Name", "Sarah Connor"),
        ("대시보드", "고객명", "김민수"),
        ("문자 발송", "이름", "김민수"),
    ],
)
def test_buttons_and_menus_are_never_a_labelled_value(text: str, context: str, value: str) -> None:
    assert LabelledValueRecognizer().analyze(text, context) == []
    assert LabelledValueRecognizer().analyze(value, context) != []  # the same label still works


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("운송장: 1Z709AA4756124692", "받는 분"),
        ("주 문 번호: ORD-2023-724937 ㆍ 증량: 1.2 kg", "받는 분"),  # OCR spaced the label out
        ("Order no: #447120 · Weight: 1.2 kg", "Recipient"),
        ("N° de facture : F2024/5550", "Destinataire"),
        ("注文番号：20240702-23707", "お名前"),
    ],
)
def test_a_business_fields_own_label_decides(text: str, context: str) -> None:
    """A shipping label's "운송장: 1Z709…" line sits under "받는 분": the line's own label (a
    business field's, with its colon) says what its value is; the name's label does not reach it."""
    assert RECOGNIZER.analyze(text, context) == []
    assert RECOGNIZER.analyze("김민수", context) != []  # the name's label still labels a name
    assert RECOGNIZER.analyze("Tél : 06 12 34 56 78", context) != []  # a personal field's own label


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("SSN / NI number", "us_ssn"),
        ("Phone / Fax", "phone"),
        ("Nom / Prénom", "person_name"),
        ("Name / SKU", None),
        ("1990/01/01", None),
    ],
)
def test_two_labels_slashed_are_one_label(label: str, kind: str | None) -> None:
    assert label_type(label) == kind
