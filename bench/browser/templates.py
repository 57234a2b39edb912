"""HTML of the business apps (first half): order admin, support chat, CRM card, bank transfer,
webmail, video meeting, psql/mysql terminal. Each returns (css, body); `TEMPLATES` lists them all
with the element a scrolled sequence scrolls (if any) and whether a value is typed."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from bench.browser.page import GREET, Page
from bench.browser.values import Value


@dataclass(frozen=True)
class Template:
    name: str
    render: Callable[[Page], tuple[str, str]]
    scroll: str | None  # CSS selector of what a scrolled sequence scrolls; None: fits one screen
    typed: bool  # whether the page has a value being typed (`data-typed`)


def _rows(p: Page, n: int, cell: Callable[[Page, int], str]) -> str:
    return "".join(f"<tr>{cell(p, i)}</tr>" for i in range(n))


def order_admin(p: Page) -> tuple[str, str]:
    css = """
    .wrap{display:flex;height:100vh} .side{width:200px;background:var(--panel);border-right:1px solid var(--line);padding:14px}
    .side div{padding:7px 8px;border-radius:6px} .side .on{background:var(--accent);color:var(--accent-fg)}
    .main{flex:1;overflow:auto;padding:16px} .top{display:flex;gap:10px;align-items:center;margin-bottom:12px}
    .top .q{flex:1;border:1px solid var(--line);border-radius:6px;padding:5px 10px}
    table{width:100%} th{text-align:left;border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
    td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}
    .pill{padding:1px 8px;border-radius:10px;background:var(--bubble)}"""
    menu = "".join(f'<div class="{"on" if k == "orders" else ""}">{p.w(k)}</div>'
                   for k in ("dashboard", "orders", "products", "reports", "settings"))  # fmt: skip
    heads = "".join(f"<th>{p.w(k)}</th>" for k in ("order", "date", "customer", "email", "phone", "ship_to",
                                                    "items", "amount", "status"))  # fmt: skip

    def cell(p: Page, i: int) -> str:
        vals = p.values
        status = p.w(p.rng.choice(("paid", "shipped", "pending")))
        return (f"<td>{p.d('order_no')}</td><td>{p.ui('2026-0' + str(1 + i % 9) + '-1' + str(i % 10))}</td>"
                f"<td>{p.v(vals.name())}</td><td>{p.v(vals.email())}</td><td>{p.v(vals.phone())}</td>"
                f"<td>{p.v(vals.address())}</td><td>{p.d('sku')}</td><td>{p.d('amount')}</td>"
                f'<td><span class="pill">{status}</span></td>')  # fmt: skip

    body = (f'<div class="wrap"><div class="side"><b>{p.ui("ShopAdmin")}</b>{menu}</div><div class="main">'
            f'<div class="top"><b>{p.w("orders")}</b><span class="q muted">{p.word("search")}…</span>'
            f'<span class="btn">{p.w("export")}</span></div>'
            f"<table><tr>{heads}</tr>{_rows(p, 28, cell)}</table></div></div>")  # fmt: skip
    return css, body


def support_chat(p: Page) -> tuple[str, str]:
    css = """
    .wrap{display:flex;height:100vh} .list{width:260px;border-right:1px solid var(--line);overflow:hidden}
    .conv{display:flex;gap:8px;padding:10px;border-bottom:1px solid var(--line)} .conv .t{overflow:hidden;white-space:nowrap}
    .chat{flex:1;display:flex;flex-direction:column} .msgs{flex:1;overflow:auto;padding:16px}
    .m{max-width:62%;padding:8px 12px;border-radius:12px;margin:8px 0;background:var(--bubble2)}
    .me{margin-left:auto;background:var(--bubble)} .who{font-size:.85em;color:var(--muted)}
    .compose{border-top:1px solid var(--line);padding:10px;display:flex;gap:8px} .compose .in{flex:1;border:1px solid var(--line);border-radius:6px;padding:6px}
    .info{width:280px;border-left:1px solid var(--line);padding:14px;background:var(--panel)} .info div{margin:6px 0}"""
    vals, g = p.values, GREET[p.language]
    convs = ""
    for _ in range(9):
        n = vals.name()
        convs += (f'<div class="conv">{p.avatar(n, 34)}<div class="t"><b>{p.v(n)}</b><br>'
                  f'<span class="muted">{p.d("order_no")}</span></div></div>')  # fmt: skip
    cust, agent = vals.name(), vals.given_name()
    msgs = "".join(_chat_turn(p, vals.name(), vals.given_name()) for _ in range(2))
    msgs += (f'<div class="who">{p.v(cust)}</div><div class="m">{html.escape(g[0])} {p.d("order_no")}</div>'
            f'<div class="m me">{html.escape(g[1])}</div>'
            f'<div class="m">{html.escape(g[3])} {p.v(vals.address())}. {p.word("phone")}: {p.v(vals.phone())}</div>'
            f'<div class="m">{p.word("email")}: {p.v(vals.email())}</div>'
            f'<div class="m me">{html.escape(g[2])}<br>{p.v(agent)}</div>'
            f'<div class="m">{p.word("dob")}: {p.v(vals.date_of_birth())}</div>')  # fmt: skip
    info = (f"<div><b>{p.w('customer')}</b></div><div>{p.avatar(cust, 48)}</div><div>{p.v(cust)}</div>"
            f"<div>{p.w('email')}<br>{p.v(vals.email())}</div><div>{p.w('phone')}<br>{p.v(vals.phone())}</div>"
            f"<div>{p.w('ship_to')}<br>{p.v(vals.address(), multiline=True)}</div>"
            f"<div>{p.w('support')}<br>{p.d('support_phone')}</div>")  # fmt: skip
    body = (f'<div class="wrap"><div class="list"><div class="conv"><b>{p.w("conversations")}</b></div>{convs}</div>'
            f'<div class="chat"><div class="msgs">{msgs}</div><div class="compose"><span class="in">'
            f'{p.v(vals.phone(), attrs=" data-typed")}</span><span class="btn">{p.w("send")}</span></div></div>'
            f'<div class="info">{info}</div></div>')  # fmt: skip
    return css, body


def _chat_turn(p: Page, cust: Value, agent: Value) -> str:
    vals, g = p.values, GREET[p.language]
    return (f'<div class="who">{p.v(cust)}</div><div class="m">{html.escape(g[0])} {p.d("order_no")}</div>'
            f'<div class="m me">{html.escape(g[1])} {p.d("tracking_no")}</div>'
            f'<div class="m">{p.word("phone")} {p.v(vals.phone())} · {p.word("card")} {p.v(vals.card())}</div>'
            f'<div class="m me">{html.escape(g[2])}<br>{p.v(agent)}</div>')  # fmt: skip


def _form(p: Page, fields: list[tuple[str, str]], cols: int = 2) -> str:
    cells = "".join(
        f'<div class="f"><label>{p.w(k)}</label><div class="in">{v}</div></div>' for k, v in fields
    )
    return f'<div class="grid" style="grid-template-columns:repeat({cols},1fr)">{cells}</div>'


FORM_CSS = """
.grid{display:grid;gap:14px 28px;padding:18px} .f label{display:block;color:var(--muted);font-size:.9em;margin-bottom:3px}
.f .in{border:1px solid var(--line);border-radius:6px;padding:6px 10px;min-height:2.2em;background:var(--bg)}
.head{padding:14px 18px;border-bottom:1px solid var(--line);display:flex;gap:12px;align-items:center;background:var(--panel)}
.act{padding:0 18px} .act div{padding:6px 0;border-bottom:1px solid var(--line)}"""


def crm_card(p: Page) -> tuple[str, str]:
    vals = p.values
    person = vals.name()
    nid = vals.national_id()
    fields = [("name", p.v(person)), ("company", p.ui("Acme Trading")), ("email", p.v(vals.email())),
              ("phone", p.v(vals.phone(), attrs=" data-typed")), ("address", p.v(vals.address())),
              ("dob", p.v(vals.date_of_birth())), ("owner", p.v(vals.name())),
              ("national_id" if nid else "iban", p.v(nid or vals.iban()))]  # fmt: skip
    acts = "".join(f"<div>{p.ui('2026-03-1' + str(i))} · {p.v(vals.name())} · {p.d('order_no')}</div>"
                   for i in range(6))  # fmt: skip
    body = (f'<div class="head">{p.avatar(person, 44)}<b>{p.v(person)}</b><span class="btn">{p.w("save")}</span>'
            f'<span class="btn2">{p.w("cancel")}</span></div>{_form(p, fields)}'
            f'<div class="act"><b>{p.w("activity")}</b>{acts}</div>')  # fmt: skip
    return FORM_CSS, body


def bank_transfer(p: Page) -> tuple[str, str]:
    vals = p.values
    css = (
        FORM_CSS
        + """ .box{max-width:900px;margin:20px auto;border:1px solid var(--line);border-radius:10px}
    table{width:100%} td,th{padding:7px 12px;border-bottom:1px solid var(--line);text-align:left}"""
    )
    to_acct = vals.iban() if p.language in ("fr", "en") else vals.bank_account()
    fields = [("from_account", p.v(vals.bank_account())), ("recipient", p.v(vals.name(), attrs=" data-typed")),
              ("account", p.v(to_acct)), ("amount", p.d("amount")), ("reference", p.d("invoice_no")),
              ("phone", p.v(vals.phone()))]  # fmt: skip
    recent = "".join(f"<tr><td>{p.ui('03/1' + str(i))}</td><td>{p.v(vals.name())}</td>"
                     f"<td>{p.v(vals.bank_account())}</td><td>{p.d('amount')}</td></tr>" for i in range(8))  # fmt: skip
    body = (f'<div class="box"><div class="head"><b>{p.w("transfer")}</b></div>{_form(p, fields)}'
            f'<div class="act"><span class="btn">{p.w("confirm")}</span> <span class="btn2">{p.w("cancel")}</span></div>'
            f'<div class="head"><b>{p.w("recent")}</b></div><table>{recent}</table></div>')  # fmt: skip
    return css, body


def webmail(p: Page) -> tuple[str, str]:
    vals, g = p.values, GREET[p.language]
    css = """
    .wrap{display:flex;height:100vh} .fold{width:180px;background:var(--panel);padding:12px} .fold div{padding:6px}
    .lst{width:360px;border-right:1px solid var(--line);overflow:hidden} .it{padding:9px 12px;border-bottom:1px solid var(--line)}
    .rd{flex:1;padding:20px;overflow:auto} .hdr div{margin:3px 0} .bd{margin-top:18px;line-height:1.6}"""
    folders = "".join(f"<div>{p.w(k)}</div>" for k in ("inbox", "sent", "drafts"))
    items = "".join(f'<div class="it"><b>{p.v(vals.name())}</b> <span class="muted">{p.ui("10:4" + str(i))}</span>'
                    f"<br>{p.word('order')} {p.d('order_no')}</div>" for i in range(10))  # fmt: skip
    sender, me = vals.name(), vals.given_name()
    hdr = (f"<div>{p.w('from')}: {p.v(sender)} &lt;{p.v(vals.email())}&gt;</div>"
           f"<div>{p.w('to')}: {p.v(vals.email())}</div><div>{p.w('subject')}: {p.word('invoice')} {p.d('invoice_no')}</div>")  # fmt: skip
    bodytext = (f"<p>{html.escape(g[0])}</p><p>{html.escape(g[3])}<br>{p.v(vals.address(), multiline=True)}</p>"
                f"<p>{p.word('phone')}: {p.v(vals.phone())}<br>{p.word('card')}: {p.v(vals.card())}</p>"
                f"<p>{html.escape(g[2])}<br>{p.v(me)}</p><p class='muted'>{p.v(sender)}<br>{p.v(vals.phone())}<br>"
                f"{p.v(vals.address())}</p>")  # fmt: skip
    body = (f'<div class="wrap"><div class="fold"><span class="btn">{p.w("send")}</span>{folders}</div>'
            f'<div class="lst">{items}</div><div class="rd"><div class="hdr">{hdr}</div>'
            f'<div><span class="btn2">{p.w("reply")}</span> <span class="btn2">{p.w("forward")}</span></div>'
            f'<div class="bd">{bodytext}</div></div></div>')  # fmt: skip
    return css, body


def video_meeting(p: Page) -> tuple[str, str]:
    from bench.browser.faces import face_data_uri

    vals = p.values
    css = """
    body{background:#1c1c1e;color:#f2f2f7} .wrap{display:flex;height:100vh}
    .grid{flex:1;display:grid;grid-template-columns:repeat(3,1fr);gap:8px;padding:8px}
    .pane{background:#2c2c2e;border-radius:10px;position:relative;display:flex;align-items:center;justify-content:center;min-height:180px}
    .tag{position:absolute;left:10px;bottom:8px;background:rgba(0,0,0,.55);padding:2px 8px;border-radius:4px;color:#fff}
    .side{width:280px;background:#242426;padding:12px;overflow:hidden} .side div{padding:5px 0;display:flex;gap:8px;align-items:center}
    .bar{position:fixed;bottom:0;left:0;right:280px;text-align:center;padding:8px;background:#111}
    .ph{position:relative;display:inline-block} .fc{position:absolute}"""
    panes, people = "", ""
    for i in range(9):
        n = vals.name()
        if i in (1, 5):
            uri, face = face_data_uri(p.rng.randrange(90, 150), mirrored=i == 5)
            pic = (f'<span class="ph"><img src="{uri}"><span class="fc" data-v="face" data-l="{p.language}" data-n="" '
                   f'style="left:{face[0]}px;top:{face[1]}px;width:{face[2]}px;height:{face[3]}px"></span></span>')  # fmt: skip
        else:
            pic = p.avatar(n, p.rng.choice((64, 80, 96)))
        panes += f'<div class="pane">{pic}<span class="tag">{p.v(n)}</span></div>'
        people += f"<div>{p.avatar(n, 26)}{p.v(n)}</div>"
    body = (f'<div class="wrap"><div class="grid">{panes}</div><div class="side"><b>{p.w("participants")} (9)</b>'
            f'{people}<b>{p.w("chat")}</b><div>{p.v(vals.given_name())}: {p.v(vals.email())}</div></div></div>'
            f'<div class="bar"><span class="btn2">{p.w("mute")}</span> <span class="btn2">{p.w("share")}</span> '
            f'<span class="btn" style="background:#d70015">{p.w("leave")}</span></div>')  # fmt: skip
    return css, body


def sql_terminal(p: Page) -> tuple[str, str]:
    vals = p.values
    css = """body{background:#101418;color:#d0d7de} pre{margin:0;padding:10px 14px;font-family:var(--mono);white-space:pre}
    .pr{color:#7ee787}"""
    mysql = p.rng.random() < 0.5
    cols = ["id", "name", "phone", "email", "birth_date"]
    rows = [[vals.name(), vals.phone(), vals.email(), vals.date_of_birth()] for _ in range(18)]
    raw = [[str(1000 + i)] + [v.text for v in r] for i, r in enumerate(rows)]

    def width(k: int) -> int:
        return max(len(cols[k]), *(_display_len(r[k]) for r in raw))

    widths = [width(k) for k in range(5)]
    bar = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: list[str], raw: list[str]) -> str:
        parts = [f" {c}{' ' * (widths[k] - _display_len(raw[k]))} " for k, c in enumerate(cells)]
        return ("|" if mysql else "") + "|".join(parts) + ("|" if mysql else "")

    out = [f'<span class="pr">{"mysql&gt;" if mysql else "shop=#"}</span> SELECT id, name, phone, email, birth_date '
           "FROM customers WHERE city = 'Lyon' LIMIT 18;"]  # fmt: skip
    if mysql:
        out.append(bar)
    out.append(line([p.ui(c) for c in cols], cols))
    out.append(bar if mysql else "+".join("-" * (w + 2) for w in widths))
    for r, texts in zip(rows, raw, strict=True):
        out.append(line([texts[0]] + [p.v(v) for v in r], texts))
    if mysql:
        out.append(bar)
    out.append("(18 rows)" if not mysql else "18 rows in set (0.01 sec)")
    out.append(
        f'<span class="pr">$</span> grep -c "{html.escape(p.values.decoy("order_no").text)}" orders.log'
    )
    out.append('<span class="pr">$</span> tail -3 /var/log/sms.log')
    for _ in range(3):
        out.append(f"2026-03-14T09:1{p.rng.randrange(10)}:22Z sms sent to {p.v(vals.phone())} status=ok")
    return css, f"<pre>{chr(10).join(out)}</pre>"


def _display_len(text: str) -> int:
    """Columns a string takes in a terminal: East Asian wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
