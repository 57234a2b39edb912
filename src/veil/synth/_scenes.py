"""Scene builders: a back-office window (title bar, side menu) around a table, form, chat, e-mail or
terminal, as display lists for `veil.synth.screens.render_layout`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from veil.models import Box
from veil.synth import _fonts
from veil.synth.fakedata import (
    DECOY_TYPES,
    LANGUAGES,
    NAME_TYPE,
    TYPES_BY_LANGUAGE,
    FakeData,
    FakeValue,
    label_for,
)
from veil.synth.screens import Layout, Op, RectOp, ScreenSpec, Span, TextOp

_UI: dict[str, tuple[str, str, str, str]] = {  # ko, ja, fr, en
    "app": ("고객관리 시스템", "顧客管理システム", "Gestion clients", "Customer admin"),
    "menu": ("대시보드|고객|주문|정산|설정", "ダッシュボード|顧客|注文|精算|設定",
             "Tableau de bord|Clients|Commandes|Factures|Réglages",
             "Dashboard|Customers|Orders|Billing|Settings"),
    "table": ("고객 목록", "顧客一覧", "Liste des clients", "Customer list"),
    "form": ("고객 상세 정보", "顧客詳細", "Fiche client", "Customer details"),
    "chat": ("상담 채팅", "チャット対応", "Messagerie client", "Support chat"),
    "email": ("받은편지함", "受信トレイ", "Boîte de réception", "Inbox"),
    "terminal": ("터미널", "ターミナル", "Terminal", "Terminal"),
    "from": ("보낸사람", "差出人", "De", "From"),
    "to": ("받는사람: 고객지원팀", "宛先: サポート窓口", "À : Service client", "To: Support team"),
    "subject": ("제목: 주문 문의 ", "件名: ご注文について ", "Objet : commande ", "Subject: order "),
    "hello": ("안녕하세요, 고객지원팀입니다.", "いつもお世話になっております。", "Bonjour,", "Hello,"),
    "bye": ("감사합니다.", "よろしくお願いいたします。", "Cordialement,", "Best regards,"),
    "save": ("저장", "保存", "Enregistrer", "Save"),
}  # fmt: skip

_SENTENCES: dict[str, tuple[tuple[str, str], ...]] = {  # (before the value, after it)
    "ko": (("제 {label}는 ", " 입니다."), ("{label} ", " 로 변경해 주세요."),
           ("확인했습니다. {label}: ", "")),
    "ja": (("私の{label}は", "です。"), ("{label}を", "に変更してください。"),
           ("確認しました。{label}: ", "")),
    "fr": (("Mon {label} est ", "."), ("Pouvez-vous mettre à jour ({label}) ", " ?"),
           ("C'est noté, {label} : ", "")),
    "en": (("My {label} is ", "."), ("Please update the {label} to ", "."), ("Noted, {label}: ", "")),
}  # fmt: skip


def ui(key: str, language: str) -> str:
    return _UI[key][LANGUAGES.index(language)]


class _Builder:
    """Shared state while one scene is laid out."""

    def __init__(self, spec: ScreenSpec) -> None:
        self.spec = spec
        self.fake = FakeData(spec.seed)
        self.rng: random.Random = self.fake.rng
        self.lang = spec.language
        latin = spec.language in ("fr", "en")
        self.cjk_latin = latin and self.rng.random() < 0.3
        self.fonts = _fonts.font_set(spec.language, spec.font_px, self.cjk_latin)
        self.ops: list[Op] = []
        self.lh = int(spec.font_px * 1.9)
        self.width, self.height = spec.size
        self.top = int(spec.font_px * 2.8)
        self.left = max(160, spec.font_px * 11)
        self.x0, self.y0 = self.left + 24, self.top + 20

    def value_lang(self) -> str:
        """Mostly the screen's language; now and then a foreign customer, as in a real back office."""
        if self.rng.random() > 0.15:
            return self.lang
        pool = ("en", "ja", "ko") if self.lang in ("ko", "ja") or self.cjk_latin else ("en", "fr")
        return self.rng.choice([x for x in pool if x != self.lang] or [self.lang])

    def value(self, type_: str) -> FakeValue:
        lang = self.value_lang()
        if type_ != NAME_TYPE and type_ not in TYPES_BY_LANGUAGE[lang]:
            lang = self.lang
        return self.fake.value(type_, lang)

    def width_of(self, text: str, font: str = "body") -> float:
        return float(self.fonts[font].getlength(text))

    def text(self, x: int, y: int, *spans: Span, font: str = "body", color: str = "fg", **kw: object) -> None:
        self.ops.append(TextOp(x, y, tuple(spans), font, color, **kw))  # type: ignore[arg-type]

    def rect(self, box: Box, color: str, outline: str = "", scroll: bool = False) -> None:
        self.ops.append(RectOp(box, color, outline, scroll))

    def chrome(self, title_key: str) -> None:
        fs = self.spec.font_px
        self.rect(Box(0, 0, self.width, self.top), "accent")
        self.text(16, (self.top - fs) // 2 - 2, Span(ui("app", self.lang)), font="bold", color="accent_fg")
        self.rect(Box(0, self.top, self.left, self.height - self.top), "sidebar")
        for i, item in enumerate(ui("menu", self.lang).split("|")):
            self.text(16, self.top + 16 + i * self.lh, Span(item), color="sidebar_fg")
        self.text(self.x0, self.y0, Span(ui(title_key, self.lang)), font="title")
        self.y0 += int(self.lh * 1.6)

    def layout(self, viewport: Box | None = None) -> Layout:
        return Layout(self.spec, tuple(self.ops), self.cjk_latin, viewport, self.lh)


def _table(b: _Builder) -> Layout:
    b.chrome("table")
    own = [t for t in TYPES_BY_LANGUAGE[b.lang] if t not in ("date_of_birth", "bank_account")]
    cols = [NAME_TYPE, *b.rng.sample(own, k=min(len(own), b.rng.randint(3, 5)))]
    cols += b.rng.sample(("order_number", "price", "date", "sku", "tracking_number"), k=b.rng.randint(2, 3))
    b.rng.shuffle(cols)
    rows = [[_cell(b, c) for c in cols] for _ in range(40)]
    widths = [max(b.width_of(label_for(c, b.lang), "bold"), *(b.width_of(r[i].text) for r in rows)) + 28
              for i, c in enumerate(cols)]  # fmt: skip
    avail = b.width - b.x0 - 16
    while len(cols) > 2 and sum(widths) > avail:  # drop columns that do not fit
        cols.pop(), widths.pop()
    xs = [b.x0 + int(sum(widths[:i])) for i in range(len(cols))]
    b.rect(Box(b.x0, b.y0, int(sum(widths)), b.lh), "header_bg")
    for x, c in zip(xs, cols, strict=True):
        b.text(x + 10, b.y0 + (b.lh - b.spec.font_px) // 2 - 2, Span(label_for(c, b.lang)), font="bold")
    body = b.y0 + b.lh
    for r, row in enumerate(rows):
        y = body + r * b.lh
        if r % 2:
            b.rect(Box(b.x0, y, int(sum(widths)), b.lh), "stripe", scroll=True)
        for x, v in zip(xs, row[: len(cols)], strict=False):
            b.text(x + 10, y + (b.lh - b.spec.font_px) // 2 - 2, Span(v.text, v), scroll=True)
    rows_fit = (b.height - body - 8) // b.lh
    return b.layout(Box(b.x0, body, b.width - b.x0, rows_fit * b.lh))


def _cell(b: _Builder, type_: str) -> FakeValue:
    return b.fake.decoy(type_, b.lang) if type_ in DECOY_TYPES else b.value(type_)


def _form(b: _Builder) -> Layout:
    b.chrome("form")
    personal = [NAME_TYPE, *b.rng.sample(TYPES_BY_LANGUAGE[b.lang], k=min(8, len(TYPES_BY_LANGUAGE[b.lang])))]
    fields = [b.value(t) for t in personal]
    fields += [b.fake.decoy(t, b.lang) for t in b.rng.sample(("order_number", "date", "invoice_number"), 2)]
    typing = next(i for i, f in enumerate(fields) if f.type in ("email", "phone", "card") or i == 1)
    col_w = (b.width - b.x0 - 40) // 2
    label_w = int(max(b.width_of(label_for(f.type, b.lang)) for f in fields)) + 24
    box_w = min(col_w - label_w - 24, int(b.spec.font_px * 26))
    y = b.y0
    for i, f in enumerate(fields):
        x = b.x0 + (i % 2) * col_w
        if i % 2 == 0 and i:
            y += int(b.lh * 1.5)
        if y + b.lh * 3 > b.height:
            break
        b.text(x, y + (b.lh - b.spec.font_px) // 2 - 2, Span(label_for(f.type, b.lang)), color="muted")
        b.rect(Box(x + label_w, y, box_w, b.lh + 4), "input", outline="border")
        key = "typing" if i == typing else ""
        b.text(x + label_w + 8, y + (b.lh - b.spec.font_px) // 2, Span(f.text, f), key=key)
    y += b.lh * 2
    support = b.fake.decoy("support_phone", b.lang)
    if y + b.lh * 2 < b.height:
        b.rect(Box(b.x0, y, int(b.width_of(ui("save", b.lang))) + 40, b.lh + 6), "accent")
        b.text(b.x0 + 20, y + 5, Span(ui("save", b.lang)), color="accent_fg")
        b.text(b.x0 + 240, y + 5, Span(support.label + " "), Span(support.text, support), color="muted")
    return b.layout()


def _sentence(b: _Builder, v: FakeValue) -> tuple[Span, ...]:
    pre, post = b.rng.choice(_SENTENCES[b.lang])
    return Span(pre.format(label=label_for(v.type, b.lang))), Span(v.text, v), Span(post)


def _chat(b: _Builder) -> Layout:
    b.chrome("chat")
    y, right = b.y0, b.width - 24
    while y + b.lh * 3 < b.height:
        mine = b.rng.random() < 0.45
        v = (
            b.fake.any_decoy(b.lang)
            if b.rng.random() < 0.3
            else b.value(b.rng.choice(TYPES_BY_LANGUAGE[b.lang]))
        )
        spans = _sentence(b, v)
        w = int(sum(b.width_of(s.text) for s in spans)) + 28
        x = right - w if mine else b.x0
        if x < b.x0 or x + w > right:
            continue
        y = bubble(b, x, y, w, spans, mine)
    return b.layout()


def bubble(b: _Builder, x: int, y: int, w: int, spans: Sequence[Span], mine: bool) -> int:
    """One chat bubble at (x, y), `w` wide, with its time beside it; returns the next bubble's y."""
    b.rect(Box(x, y, w, b.lh + 8), "bubble_me" if mine else "bubble_them")
    b.text(x + 14, y + 4 + (b.lh - b.spec.font_px) // 2 - 2, *spans)
    when = b.fake.decoy("time", b.lang)
    tx = x - int(b.width_of(when.text, "small")) - 10 if mine else x + w + 10
    b.text(tx, y + b.lh // 2, Span(when.text, when), font="small", color="muted")
    return y + int(b.lh * 1.9)


def _email(b: _Builder) -> Layout:
    b.chrome("email")
    name, mail, order = b.value(NAME_TYPE), b.value("email"), b.fake.decoy("order_number", b.lang)
    x, y = b.x0, b.y0
    b.text(x, y, Span(ui("from", b.lang) + ": "), Span(name.text, name), Span(" <"), Span(mail.text, mail),
           Span(">"))  # fmt: skip
    b.text(x, y + b.lh, Span(ui("to", b.lang)), color="muted")
    b.text(x, y + 2 * b.lh, Span(ui("subject", b.lang)), Span(order.text, order), font="bold")
    y += int(b.lh * 3.6)
    b.text(x, y, Span(ui("hello", b.lang)))
    y += int(b.lh * 1.4)
    while y + b.lh * 4 < b.height:
        v = (
            b.fake.any_decoy(b.lang)
            if b.rng.random() < 0.3
            else b.value(b.rng.choice(TYPES_BY_LANGUAGE[b.lang]))
        )
        spans = _sentence(b, v)
        if x + sum(b.width_of(s.text) for s in spans) < b.width - 20:
            b.text(x, y, *spans)
        y += b.lh
    support = b.fake.decoy("support_phone", b.lang)
    b.text(
        x, y + b.lh // 2, Span(ui("bye", b.lang) + "  " + support.label + " "), Span(support.text, support)
    )
    return b.layout()


def _terminal(b: _Builder) -> Layout:
    b.rect(Box(0, 0, b.width, b.height), "term_bg")
    x, y, lh = 16, 12, int(b.spec.font_px * 1.5)
    b.text(x, y, Span("ops@backoffice:~$ tail -f /var/log/app/access.log"), font="mono", color="term_fg")
    y += lh
    while y + lh < b.height - 8:
        date, time = b.fake.decoy("date", "en"), b.fake.decoy("time", "en")
        mail, ip = b.value("email"), b.fake.value("ip_address", b.lang)
        spans: tuple[Span, ...]
        if b.rng.random() < 0.5:
            spans = (Span(date.text, date), Span(" "), Span(time.text, time), Span(" INFO login user="),
                     Span(mail.text, mail), Span(" ip="), Span(ip.text, ip))  # fmt: skip
        else:
            order, name = b.fake.decoy("order_number", b.lang), b.value(NAME_TYPE)
            phone = b.value("phone")
            spans = (Span(f" {b.rng.randrange(1000, 9999)} | "), Span(name.text, name), Span(" | "),
                     Span(phone.text, phone), Span(" | "), Span(order.text, order))  # fmt: skip
        if x + sum(b.width_of(s.text, "mono") for s in spans) < b.width - 8:
            b.text(x, y, *spans, font="mono", color="term_fg")
        y += lh
    return b.layout()


_BUILDERS: dict[str, Callable[[_Builder], Layout]] = {
    "table": _table,
    "form": _form,
    "chat": _chat,
    "email": _email,
    "terminal": _terminal,
}


def build_layout(spec: ScreenSpec) -> Layout:
    spec.check()
    if spec.kind not in _BUILDERS:
        from veil.synth._scenes_people import PEOPLE_BUILDERS  # imports this module

        return PEOPLE_BUILDERS[spec.kind](_Builder(spec))
    return _BUILDERS[spec.kind](_Builder(spec))
