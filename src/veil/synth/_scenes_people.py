"""Scenes full of people: a support chat with names and addresses in running text, a CRM contact
card, an e-mail client with signature blocks, a video-call gallery with faces and name tags,
shipping labels, a spreadsheet export and a terminal printing customer rows.

Values next to a label that announces their type ("주소", "氏名", "Adresse", "Phone", a column
header) are drawn with `Span.labelled`, so a benchmark can report labelled-field recall apart.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace

from veil.models import Box
from veil.synth._scenes import _Builder, bubble
from veil.synth.fakedata import LANGUAGES, NAME_TYPE, FakeValue, label_for
from veil.synth.people import (
    ADDRESS_TYPE,
    AVATAR_COLORS,
    CHAT_LINES,
    FIELD_LABELS,
    GREETINGS,
    NOTE_LINES,
    SCENE_TEXT,
    SHIP_TO_LABELS,
    TEL_LABEL,
    People,
    disc_picture,
    face_picture,
)
from veil.synth.screens import PALETTES, Layout, Picture, Span

_SLOT = re.compile(r"\{(name|other|addr|order)\}")


def _ui(key: str, language: str) -> str:
    return SCENE_TEXT[key][LANGUAGES.index(language)]


def _field_label(b: _Builder, type_: str) -> str:
    return b.rng.choice(FIELD_LABELS[type_][LANGUAGES.index(b.lang)])


def _name(b: _Builder, p: People) -> FakeValue:
    """Mostly the screen's language, sometimes a foreign customer (as `_Builder.value_lang`)."""
    return p.name(b.value_lang())


def _addr(p: People, b: _Builder, text: str) -> FakeValue:
    return p.address_value(text, b.lang)


def _fill(b: _Builder, p: People, template: str, name: FakeValue, short: bool = False) -> tuple[Span, ...]:
    """The template's text as spans, each slot a fresh value (the customer's name for {name})."""
    spans: list[Span] = []
    pos = 0
    for m in _SLOT.finditer(template):
        spans.append(Span(template[pos : m.start()]))
        slot = m.group(1)
        if slot == "name":
            v = name
        elif slot == "other":
            v = _name(b, p)
        elif slot == "order":
            v = b.fake.decoy("order_number", b.lang)
        else:
            address = p.address(b.lang)
            v = _addr(p, b, address.short if short else address.one_line)
        spans.append(Span(v.text, v))
        pos = m.end()
    spans.append(Span(template[pos:]))
    return tuple(s for s in spans if s.text)


def _chrome(b: _Builder, title: str) -> None:
    fs = b.spec.font_px
    b.rect(Box(0, 0, b.width, b.top), "accent")
    b.text(16, (b.top - fs) // 2 - 2, Span(_ui("app", b.lang)), font="bold", color="accent_fg")
    b.rect(Box(0, b.top, b.left, b.height - b.top), "sidebar")
    b.text(b.x0, b.y0, Span(title), font="title")
    b.y0 += int(b.lh * 1.6)


def _spans_width(b: _Builder, spans: tuple[Span, ...], font: str = "body") -> int:
    return int(sum(b.width_of(s.text, font) for s in spans))


def _avatar(b: _Builder, p: People, name: FakeValue, x: int, y: int, diameter: int, bg: str) -> Picture:
    """An initials avatar of `name` at (x, y) on the palette colour `bg`; its disc is the truth."""
    avatar = p.avatar(name)
    fill = b.rng.choice(AVATAR_COLORS)
    pixels = disc_picture(diameter, fill, PALETTES[b.spec.theme][bg], avatar.text)
    return Picture(x, y, pixels, ((Box(0, 0, diameter, diameter), avatar),))


def _icons(b: _Builder, p: People, right: int, y: int, diameter: int, bg: str) -> list[Picture]:
    """Round icons and buttons with no name beside them (record dot, help, add): decoys, right-
    aligned so their right edge is at `right`."""
    out = []
    for glyph in b.rng.sample(("", "?", "+", "!"), k=2):
        right -= diameter
        fill = b.rng.choice(AVATAR_COLORS)
        pixels = disc_picture(diameter, fill, PALETTES[b.spec.theme][bg], glyph)
        out.append(Picture(right, y, pixels, ((Box(0, 0, diameter, diameter), p.icon(b.lang, glyph)),)))
        right -= diameter // 2
    return out


def _beside(b: _Builder, y: int, d: int, font: str = "body") -> int:
    """Top of a `d`-pixel disc centred on the text line drawn at `y` in `font`."""
    top, bottom = b.fonts[font].getbbox("Ag가")[1::2]
    return y + int(top + bottom) // 2 - d // 2


def _chat_header(b: _Builder, p: People, customer: FakeValue, order: FakeValue) -> list[Picture]:
    """The customer's avatar and name over the conversation, and round buttons in the title bar."""
    d = int(b.lh * 1.1)
    pictures = [_avatar(b, p, customer, b.x0, _beside(b, b.y0, d, "bold"), d, "bg")]
    b.text(b.x0 + d + 10, b.y0, Span(customer.text, customer), Span("  ·  "), Span(order.text, order),
           font="bold")  # fmt: skip
    icon_d = max(10, int(b.top * 0.55))
    pictures += _icons(b, p, b.width - 16, (b.top - icon_d) // 2, icon_d, "accent")
    return pictures


# -- support chat ------------------------------------------------------------------------------
def _cs_chat(b: _Builder) -> Layout:
    p = People(b.rng)
    _chrome(b, _ui("cs_chat", b.lang))
    customer, order = _name(b, p), b.fake.decoy("order_number", b.lang)
    pictures = _chat_header(b, p, customer, order)
    y, right = b.y0 + int(b.lh * 1.8), b.width - 24
    max_w = int((right - b.x0) * 0.85)
    customer_lines, agent_lines = CHAT_LINES[b.lang]
    for _ in range(300):
        if y + b.lh * 3 >= b.height:
            break
        mine = b.rng.random() < 0.45
        template = b.rng.choice(agent_lines if mine else customer_lines)
        spans = _fill(b, p, template, customer)
        if _spans_width(b, spans) + 28 > max_w:
            spans = _fill(b, p, template, customer, short=True)
        w = _spans_width(b, spans) + 28
        if w > max_w:
            continue
        x = right - w if mine else b.x0
        y = bubble(b, x, y, w, spans, mine)
    return replace(b.layout(), pictures=tuple(pictures))


# -- CRM contact card --------------------------------------------------------------------------
def _crm_card(b: _Builder) -> Layout:
    p = People(b.rng)
    _chrome(b, _ui("crm_card", b.lang))
    name, company, address = _name(b, p), p.company(b.lang), p.address(b.lang)
    card_w = min(b.width - b.x0 - 24, b.spec.font_px * 70)
    x, y = b.x0, b.y0
    b.rect(Box(x, y, card_w, b.height - y - 16), "panel", outline="border")
    b.rect(Box(x + 20, y + 20, b.lh * 2, b.lh * 2), "accent")
    b.text(x + 40 + b.lh * 2, y + 16, Span(name.text, name), font="title")
    job = _ui("job", b.lang)
    b.text(x + 40 + b.lh * 2, y + 16 + int(b.lh * 1.2), Span(job + " · "), Span(company.text, company),
           color="muted")  # fmt: skip
    fields: list[tuple[str, FakeValue, bool]] = [
        (_field_label(b, NAME_TYPE), p.name(name.language), True),
        (_field_label(b, "phone"), b.fake.value("phone", b.lang), True),
        (_field_label(b, "email"), b.fake.value("email", b.lang), True),
        (_field_label(b, "date_of_birth"), b.fake.value("date_of_birth", b.lang), True),
        (_field_label(b, ADDRESS_TYPE), _addr(p, b, address.lines[0]), True),
        ("", _addr(p, b, address.lines[1]), True),
        (label_for("order_number", b.lang), b.fake.decoy("order_number", b.lang), False),
        (label_for("date", b.lang), b.fake.decoy("date", b.lang), False),
    ]
    y = _card_fields(b, fields, x + 20, y + b.lh * 3 + 16, card_w - 40)
    y += b.lh
    if y + b.lh * 4 < b.height:
        b.text(x + 20, y, Span(_ui("notes", b.lang)), font="bold")
        spans = _fill(b, p, NOTE_LINES[b.lang], name)
        if _spans_width(b, spans) > card_w - 40:
            spans = _fill(b, p, NOTE_LINES[b.lang], name, short=True)
        if _spans_width(b, spans) <= card_w - 40:
            b.text(x + 20, y + b.lh, *spans)
        y += b.lh * 3
    _orders(b, x + 20, y)
    return b.layout()


def _card_fields(b: _Builder, fields: list[tuple[str, FakeValue, bool]], x: int, y: int, width: int) -> int:
    """Label left of the value, or (one card in two) small label stacked above it."""
    stacked = b.rng.random() < 0.5
    label_w = int(max(b.width_of(lbl) for lbl, _, _ in fields)) + 24
    for label, v, labelled in fields:
        if y + b.lh * 3 > b.height:
            break
        if stacked:
            if label:
                b.text(x, y, Span(label), font="small", color="muted")
                y += int(b.lh * 0.9)
            b.text(x, y, Span(v.text, v, labelled=labelled))
            y += int(b.lh * 1.2)
        else:
            if label:
                b.text(x, y, Span(label), color="muted")
            b.text(x + label_w, y, Span(v.text, v, labelled=labelled))
            y += int(b.lh * 1.2)
    return y


def _orders(b: _Builder, x: int, y: int) -> None:
    if y + b.lh * 3 > b.height:
        return
    b.text(x, y, Span(_ui("orders", b.lang)), font="bold")
    cols = ("order_number", "date", "price")
    col_w = int(max(b.width_of(label_for(c, b.lang), "bold") for c in cols)) + b.spec.font_px * 12
    y += b.lh
    for i, c in enumerate(cols):
        b.text(x + i * col_w, y, Span(label_for(c, b.lang)), font="bold", color="muted")
    y += b.lh
    while y + b.lh * 2 < b.height:
        for i, c in enumerate(cols):
            v = b.fake.decoy(c, b.lang)
            b.text(x + i * col_w, y, Span(v.text, v))
        y += b.lh


# -- e-mail client with signature blocks --------------------------------------------------------
def _email_signature(b: _Builder) -> Layout:
    p = People(b.rng)
    _chrome(b, _ui("email", b.lang))
    list_w = int((b.width - b.x0) * 0.28)
    y = b.y0
    while y + b.lh * 3 < b.height:
        sender, when = _name(b, p), b.fake.decoy("time", b.lang)
        b.text(b.x0, y, Span(sender.text, sender), font="bold")
        b.text(
            b.x0 + list_w - int(b.width_of(when.text, "small")) - 16, y, Span(when.text, when), font="small"
        )
        b.text(
            b.x0, y + b.lh, Span(_ui("subject", b.lang).split(":")[-1].strip()), font="small", color="muted"
        )
        y += int(b.lh * 2.4)
    b.rect(Box(b.x0 + list_w, b.y0 - b.lh, 1, b.height - b.y0), "border")
    _message(b, p, b.x0 + list_w + 24, b.y0)
    return b.layout()


def _message(b: _Builder, p: People, x: int, y: int) -> None:
    sender, mail, order = _name(b, p), b.fake.value("email", b.lang), b.fake.decoy("order_number", b.lang)
    b.text(x, y, Span(_ui("from", b.lang) + ": "), Span(sender.text, sender), Span(" <"),
           Span(mail.text, mail), Span(">"))  # fmt: skip
    b.text(x, y + b.lh, Span(_ui("to", b.lang)), color="muted")
    b.text(x, y + 2 * b.lh, Span(_ui("subject", b.lang)), Span(order.text, order), font="bold")
    y += int(b.lh * 3.6)
    b.text(x, y, *_fill(b, p, GREETINGS[b.lang], sender))
    b.text(x, y + int(b.lh * 1.4), Span(_ui("body", b.lang)))
    spans = _fill(b, p, CHAT_LINES[b.lang][0][1], sender)
    if x + _spans_width(b, spans) < b.width - 20:
        b.text(x, y + int(b.lh * 2.4), *spans)
    y += int(b.lh * 4)
    _signature(b, p, x, y, sender, mail)


def _signature(b: _Builder, p: People, x: int, y: int, name: FakeValue, mail: FakeValue) -> None:
    address, company = p.address(b.lang), p.company(b.lang)
    phone = b.fake.value("phone", b.lang)
    b.text(x, y, Span("--"), color="muted")
    lines: list[tuple[Span, ...]] = [
        (Span(name.text, name),),
        (Span(_ui("job", b.lang) + " | "), Span(company.text, company)),
        (Span(address.lines[0], _addr(p, b, address.lines[0])),),
        (Span(address.lines[1], _addr(p, b, address.lines[1])),),
        (Span(TEL_LABEL[b.lang] + ": "), Span(phone.text, phone, labelled=True)),
        (Span(mail.text, mail),),
    ]
    if b.rng.random() < 0.4:  # a one-line address in the signature
        one = _addr(p, b, address.one_line)
        lines[2:4] = [(Span(one.text, one),)]
    for i, spans in enumerate(lines, 1):
        if y + (i + 1) * b.lh > b.height or x + _spans_width(b, spans) > b.width - 16:
            continue
        b.text(x, y + i * b.lh, *spans, font="bold" if i == 1 else "body")


# -- video-call gallery --------------------------------------------------------------------------
def _video_call(b: _Builder) -> Layout:
    p = People(b.rng)
    b.rect(Box(0, 0, b.width, b.top), "sidebar")
    when = b.fake.decoy("time", b.lang)
    b.text(16, (b.top - b.spec.font_px) // 2 - 2, Span(_ui("meeting", b.lang) + "  "), Span(when.text, when),
           color="sidebar_fg")  # fmt: skip
    icon_d = max(10, int(b.top * 0.55))
    pictures = _icons(b, p, b.width - 16, (b.top - icon_d) // 2, icon_d, "sidebar")
    panel_w = max(220, int(b.width * 0.2))
    stage = Box(0, b.top, b.width - panel_w, b.height - b.top)
    b.rect(stage, "sidebar")
    n = b.rng.choice((1, 2, 4, 4, 6, 9, 12))
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    pad = 12
    tile_w = (stage.w - pad * (cols + 1)) // cols
    tile_h = min((stage.h - pad * (rows + 1)) // rows, tile_w * 3 // 4)
    names: list[FakeValue] = []
    for i in range(n):
        tile = Box(
            pad + (i % cols) * (tile_w + pad), stage.y + pad + (i // cols) * (tile_h + pad), tile_w, tile_h
        )
        name = _name(b, p)
        names.append(name)
        pictures.extend(_tile(b, p, tile, name))
    pictures += _participants(b, p, Box(stage.w, b.top, panel_w, b.height - b.top), names)
    return replace(b.layout(), pictures=tuple(pictures))


def _tile(b: _Builder, p: People, tile: Box, name: FakeValue) -> list[Picture]:
    """One participant: a face or an initials avatar, and a name tag at the bottom left."""
    tile_bg = "header_bg" if b.spec.theme == "dark" else "muted"
    b.rect(tile, tile_bg)
    tag_h = int(b.spec.font_px * 1.8)
    tag = (Span(name.text, name),)
    tag_w = _spans_width(b, tag, "small") + 16
    b.rect(Box(tile.x + 8, tile.y2 - tag_h - 8, tag_w, tag_h), "sidebar")
    b.text(tile.x + 16, tile.y2 - tag_h - 8 + (tag_h - b.spec.font_px) // 2, *tag, font="small",
           color="sidebar_fg")  # fmt: skip
    room_h = tile.h - tag_h - 24
    largest = min(200, int(room_h / 1.95), int(tile.w / 1.8))
    if largest < 48 or b.rng.random() < 0.3:
        side = min(room_h, tile.w, 1200) // 2
        if side < 16:
            return []
        return [_avatar(b, p, name, tile.x + (tile.w - side) // 2, tile.y + (room_h - side) // 2 + 8, side,
                        tile_bg)]  # fmt: skip
    face_px = b.rng.randint(48, largest)
    pixels, face = face_picture(face_px, b.rng.random() < 0.5, b.rng.choice((1.0, 1.0, 0.75, 0.55)))
    ph, pw = pixels.shape[:2]
    x, y = tile.x + (tile.w - pw) // 2, tile.y + max(8, (room_h - ph) // 2)
    return [Picture(x, y, pixels, ((face, p.face(b.lang)),))]


def _participants(b: _Builder, p: People, panel: Box, names: list[FakeValue]) -> list[Picture]:
    """The participant list (a small initials avatar beside each name) and the meeting chat."""
    b.rect(panel, "panel")
    x, y = panel.x + 16, panel.y + 16
    b.text(x, y, Span(f"{_ui('people', b.lang)} ({len(names)})"), font="bold")
    y += int(b.lh * 1.4)
    d = int(b.lh * 0.85)
    pictures = []
    for name in names:
        if y + b.lh * 2 > b.height or b.width_of(name.text) + d + 10 > panel.w - 32:
            continue
        pictures.append(_avatar(b, p, name, x, _beside(b, y, d), d, "panel"))
        b.text(x + d + 10, y, Span(name.text, name))
        y += b.lh
    y += b.lh
    for _ in range(8):  # the meeting chat
        if y + b.lh * 2 > b.height:
            break
        speaker = b.rng.choice(names)
        spans = (Span(speaker.text, speaker), Span(": " + _ui("body", b.lang)[:12]))
        if _spans_width(b, spans, "small") < panel.w - 32:
            b.text(x, y, *spans, font="small")
        y += b.lh
    return pictures


# -- shipping labels ------------------------------------------------------------------------------
def _shipping_label(b: _Builder) -> Layout:
    p = People(b.rng)
    _chrome(b, _ui("shipping_label", b.lang))
    avail = b.width - b.x0 - 24
    count = 2 if avail >= b.spec.font_px * 80 else 1
    label_w = (avail - 40 * (count - 1)) // count
    for i in range(count):
        _label(b, p, b.x0 + i * (label_w + 40), b.y0, label_w)
    return b.layout()


def _label(b: _Builder, p: People, x: int, y: int, w: int) -> None:
    h = b.height - y - 16
    b.rect(Box(x, y, w, h), "panel", outline="fg")
    date, tracking = b.fake.decoy("date", b.lang), b.fake.decoy("tracking_number", b.lang)
    x += 20
    b.text(x, y + 12, Span(_ui("carrier", b.lang) + "   "), Span(date.text, date), font="bold")
    b.text(x, y + 12 + int(b.lh * 1.2), Span(tracking.text, tracking), font="title")
    bars_y = y + 12 + int(b.lh * 2.4)
    for k in range(0, min(w - 60, 360), 6):
        b.rect(Box(x + k, bars_y, 2 + (k * 7) % 3, b.lh * 2), "fg")
    y = bars_y + b.lh * 3
    sender, s_addr, s_phone = _name(b, p), p.address(b.lang), b.fake.value("phone", b.lang)
    block: list[tuple[Span, ...]] = [
        (Span(_ui("sender", b.lang)),),
        (Span(sender.text, sender),),
        (Span(s_addr.lines[0], _addr(p, b, s_addr.lines[0])),),
        (Span(s_addr.lines[1], _addr(p, b, s_addr.lines[1])),),
        (Span(s_phone.text, s_phone),),
    ]
    y = _lines(b, x, y, w - 40, block)
    y += b.lh // 2
    b.rect(Box(x - 20, y, w, 1), "fg")
    y += b.lh // 2
    _recipient(b, p, x, y, w - 40)


def _recipient(b: _Builder, p: People, x: int, y: int, w: int) -> None:
    name_label, addr_label, phone_label = SHIP_TO_LABELS[b.lang]
    name, address, phone = _name(b, p), p.address(b.lang), b.fake.value("phone", b.lang)
    order = b.fake.decoy("order_number", b.lang)
    indent = int(max(b.width_of(t + ": ") for t in SHIP_TO_LABELS[b.lang]))
    rows = [
        (Span(name_label + ": "), Span(name.text, name, labelled=True)),
        (Span(addr_label + ": "), Span(address.lines[0], _addr(p, b, address.lines[0]), labelled=True)),
        (Span(address.lines[1], _addr(p, b, address.lines[1]), labelled=True),),
        (Span(phone_label + ": "), Span(phone.text, phone, labelled=True)),
        (Span(label_for("order_number", b.lang) + ": "), Span(order.text, order)),
        (Span(_ui("weight", b.lang)),),
    ]
    for spans in rows:
        if y + b.lh * 2 > b.height:
            return
        dx = indent if len(spans) == 1 and spans[0].value is not None else 0
        if _spans_width(b, spans, "bold") + dx <= w:
            b.text(x + dx, y, *spans, font="bold")
        y += int(b.lh * 1.3)


def _lines(b: _Builder, x: int, y: int, w: int, lines: list[tuple[Span, ...]]) -> int:
    for spans in lines:
        if y + b.lh * 2 > b.height:
            break
        if _spans_width(b, spans) <= w:
            b.text(x, y, *spans)
        y += b.lh
    return y


# -- spreadsheet export ----------------------------------------------------------------------------
def _spreadsheet(b: _Builder) -> Layout:
    p = People(b.rng)
    b.rect(Box(0, 0, b.width, b.top), "accent")
    b.text(16, (b.top - b.spec.font_px) // 2 - 2, Span(_ui("sheet", b.lang)), font="bold", color="accent_fg")
    b.text(16, b.top + 8, Span(_ui("menu", b.lang)))
    cols = [NAME_TYPE, ADDRESS_TYPE, "phone", "order_number", "price", "date"]
    rows = [[_sheet_cell(b, p, c) for c in cols] for _ in range(60)]
    heads = [_field_label(b, c) if c in FIELD_LABELS else label_for(c, b.lang) for c in cols]
    widths = [
        int(max(b.width_of(h, "bold"), *(b.width_of(r[i].text) for r in rows))) + 20
        for i, h in enumerate(heads)
    ]
    x0, avail = 16 + b.spec.font_px * 3, b.width - 16 - b.spec.font_px * 3 - 16
    while len(cols) > 3 and sum(widths) > avail:
        cols.pop(), widths.pop(), heads.pop()
    active = rows[b.rng.randrange(len(rows) // 4)][b.rng.randrange(2)]
    fy = b.top + int(b.lh * 1.3)
    b.rect(Box(0, fy, b.width, b.lh), "panel", outline="border")
    b.text(16, fy + 3, Span("C7    fx   "), Span(active.text, active), font="mono")
    _sheet_grid(b, fy + int(b.lh * 1.4), x0, widths, [heads, *rows])
    return b.layout()


def _sheet_grid(
    b: _Builder, y: int, x0: int, widths: list[int], rows: Sequence[Sequence[str | FakeValue]]
) -> None:
    """Column letters, then row-numbered rows; the first row is the header."""
    xs = [x0 + sum(widths[:i]) for i in range(len(widths))]
    for i, x in enumerate(xs):
        b.rect(Box(x, y, widths[i], b.lh), "header_bg", outline="border")
        b.text(x + widths[i] // 2 - 4, y + 3, Span(chr(ord("A") + i)), color="muted")
    for r, row in enumerate(rows):
        ry = y + (r + 1) * b.lh
        if ry + b.lh * 2 > b.height:
            break
        b.rect(Box(16, ry, x0 - 16, b.lh), "header_bg", outline="border")
        b.text(20, ry + 3, Span(str(r + 1)), color="muted")
        for x, w, cell in zip(xs, widths, row, strict=False):
            b.rect(Box(x, ry, w, b.lh), "panel", outline="border")
            if isinstance(cell, str):
                b.text(x + 8, ry + 3, Span(cell), font="bold")
            else:
                b.text(x + 8, ry + 3, Span(cell.text, cell, labelled=not cell.decoy))


def _sheet_cell(b: _Builder, p: People, type_: str) -> FakeValue:
    if type_ == NAME_TYPE:
        return _name(b, p)
    if type_ == ADDRESS_TYPE:
        return _addr(p, b, p.address(b.lang).one_line)
    if type_ == "phone":
        return b.fake.value("phone", b.lang)
    return b.fake.decoy(type_, b.lang)


# -- terminal printing customer rows -------------------------------------------------------------
def _cells(text: str) -> int:
    """Terminal cells: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _terminal_rows(b: _Builder) -> Layout:
    p = People(b.rng)
    b.rect(Box(0, 0, b.width, b.height), "term_bg")
    x, lh = 16, int(b.spec.font_px * 1.5)
    cell = b.width_of("0", "mono")
    limit = int((b.width - 2 * x) / cell)
    query = 'ops@crm-db:~$ psql -c "SELECT id, name, address, phone FROM customers LIMIT 12"'
    b.text(x, 12, Span(query[:limit]), font="mono", color="term_fg")
    rows = [
        [FakeValue("id", b.lang, str(b.rng.randrange(1000, 9999)), "id"), _name(b, p),
         _addr(p, b, p.address(b.lang).one_line), b.fake.value("phone", b.lang)]
        for _ in range(12)
    ]  # fmt: skip
    heads = ["id", "name", "address", "phone"]
    widths = [max(_cells(h), *(_cells(r[i].text) for r in rows)) for i, h in enumerate(heads)]
    if sum(widths) + 3 * len(widths) > limit:  # too wide: the street part only
        for r in rows:
            r[2] = _addr(p, b, _street(r[2].text))
        widths[2] = max(_cells("address"), *(_cells(r[2].text) for r in rows))
    y = 12 + lh
    header = " " + " | ".join(h + " " * (w - _cells(h)) for h, w in zip(heads, widths, strict=True))
    b.text(x, y, Span(header), font="mono", color="term_fg")
    b.text(x, y + lh, Span("-" + "-+-".join("-" * w for w in widths) + "-"), font="mono", color="term_fg")
    y += 2 * lh
    for row in rows:
        if y + lh > b.height - 8:
            break
        spans: list[Span] = [Span(" ")]
        for i, (v, w) in enumerate(zip(row, widths, strict=True)):
            spans += [
                Span(v.text, v if i else None),
                Span(" " * (w - _cells(v.text)) + (" | " if i < 3 else "")),
            ]
        b.text(x, y, *spans, font="mono", color="term_fg")
        y += lh
    b.text(x, y, Span(f"({len(rows)} rows)"), font="mono", color="term_fg")
    _log_lines(b, p, x, y + 2 * lh, lh, limit)
    return b.layout()


def _street(one_line: str) -> str:
    return one_line.split(", ", maxsplit=1)[0]


def _log_lines(b: _Builder, p: People, x: int, y: int, lh: int, limit: int) -> None:
    while y + lh < b.height - 8:
        date, time = b.fake.decoy("date", "en"), b.fake.decoy("time", "en")
        order, name = b.fake.decoy("order_number", b.lang), _name(b, p)
        address = _addr(p, b, _street(p.address(b.lang).one_line))
        spans = (Span(date.text, date), Span(" "), Span(time.text, time), Span(" INFO shipment order="),
                 Span(order.text, order), Span(' to="'), Span(name.text, name), Span('" addr="'),
                 Span(address.text, address), Span('"'))  # fmt: skip
        if sum(_cells(s.text) for s in spans) <= limit:
            b.text(x, y, *spans, font="mono", color="term_fg")
        y += lh


PEOPLE_BUILDERS: dict[str, Callable[[_Builder], Layout]] = {
    "cs_chat": _cs_chat,
    "crm_card": _crm_card,
    "email_signature": _email_signature,
    "video_call": _video_call,
    "shipping_label": _shipping_label,
    "spreadsheet": _spreadsheet,
    "terminal_rows": _terminal_rows,
}

__all__ = ["PEOPLE_BUILDERS"]
