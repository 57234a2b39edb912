"""HTML of the business apps (second half): Excel-like grid, spreadsheet export (CSV in an
editor), two-column HR form, shipping labels, invoice viewer, chat with long messages."""

from __future__ import annotations

import html

from bench.browser.page import GREET, Page
from bench.browser.templates import (
    FORM_CSS,
    Template,
    _form,
    bank_transfer,
    crm_card,
    order_admin,
    sql_terminal,
    support_chat,
    video_meeting,
    webmail,
)


def excel_grid(p: Page) -> tuple[str, str]:
    vals = p.values
    css = """
    .menu{background:#217346;color:#fff;padding:6px 10px} .menu span{margin-right:18px}
    .dark .menu{background:#185c37} .fx{display:flex;border-bottom:1px solid var(--line);padding:4px 8px;gap:10px}
    .fx .ref{width:70px;border-right:1px solid var(--line)} table{font-size:.95em}
    td,th{border:1px solid var(--line);padding:2px 6px;white-space:nowrap;height:1.6em}
    th{background:var(--panel);font-weight:normal;color:var(--muted)} td.rn{background:var(--panel);color:var(--muted);text-align:right}"""
    menu = "".join(f"<span>{p.w(k)}</span>" for k in ("file", "edit", "view", "insert", "data"))
    selected = vals.email()
    heads = ["name", "dob", "phone", "email", "address", "card" if p.rng.random() < 0.5 else "account"]
    letters = "".join(f"<th>{p.ui(c)}</th>" for c in "ABCDEFG")
    rows = f'<tr><th></th>{letters}</tr><tr><td class="rn">1</td>{"".join(f"<td><b>{p.w(k)}</b></td>" for k in heads)}<td><b>{p.w("order")}</b></td></tr>'
    for i in range(2, 34):
        acct = vals.card() if heads[5] == "card" else vals.bank_account()
        rows += (f'<tr><td class="rn">{i}</td><td>{p.v(vals.name())}</td><td>{p.v(vals.date_of_birth())}</td>'
                 f"<td>{p.v(vals.phone())}</td><td>{p.v(selected if i == 4 else vals.email())}</td>"
                 f"<td>{p.v(vals.address())}</td><td>{p.v(acct)}</td><td>{p.d('order_no')}</td></tr>")  # fmt: skip
    body = (
        f'<div class="menu">{menu}</div><div class="fx"><span class="ref">D4</span><span>fx</span>'
        f"<span>{p.v(selected)}</span></div><table>{rows}</table>"
    )
    return css, body


def spreadsheet_export(p: Page) -> tuple[str, str]:
    vals = p.values
    css = """
    .tabs{background:var(--panel);border-bottom:1px solid var(--line);padding:6px 10px} .tabs span{margin-right:16px}
    .ed{display:flex;font-family:var(--mono)} .gut{color:var(--muted);text-align:right;padding:8px;border-right:1px solid var(--line)}
    .code{padding:8px 12px;white-space:pre}"""
    nid = vals.national_id()
    cols = ["name", "birth_date", "phone", "email", "address", "iban" if nid is None else "national_id"]
    lines = [",".join(p.ui(c) for c in cols)]
    for _ in range(40):
        last = vals.iban() if nid is None else vals.national_id()
        cells = [vals.name(), vals.date_of_birth(), vals.phone(), vals.email(), vals.address(), last]
        lines.append(",".join(f'"{p.v(c)}"' if c and c.type == "address" else p.v(c) for c in cells))
    gut = "<br>".join(str(i + 1) for i in range(len(lines)))
    body = (f'<div class="tabs"><span>{p.ui("customers_export.csv")}</span><span class="muted">{p.ui("orders.csv")}</span>'
            f'</div><div class="ed"><div class="gut">{gut}</div><div class="code">{"<br>".join(lines)}</div></div>')  # fmt: skip
    return css, body


def hr_form(p: Page) -> tuple[str, str]:
    vals = p.values
    person = vals.name()
    nid = vals.national_id()
    fields = [("name", p.v(person)), ("department", p.ui("Finance")), ("dob", p.v(vals.date_of_birth())),
              ("hire_date", p.ui("2019-04-01")), ("national_id" if nid else "iban", p.v(nid or vals.iban())),
              ("position", p.ui("Manager")), ("address", p.v(vals.address(), attrs=" data-typed")),
              ("phone", p.v(vals.phone())), ("salary_account", p.v(vals.bank_account())),
              ("email", p.v(vals.email())), ("emergency", p.v(vals.name())), ("phone", p.v(vals.phone()))]  # fmt: skip
    body = (
        f'<div class="head">{p.avatar(person, 40)}<b>{p.w("employee")}</b>'
        f'<span class="btn">{p.w("save")}</span><span class="btn2">{p.w("cancel")}</span></div>{_form(p, fields)}'
    )
    return FORM_CSS, body


def shipping_label(p: Page) -> tuple[str, str]:
    vals = p.values
    css = """.wrap{display:flex;flex-wrap:wrap;gap:18px;padding:18px} .lab{width:420px;border:2px solid var(--fg);padding:12px;font-family:var(--mono)}
    .lab .sec{border-bottom:1px dashed var(--line);padding:6px 0} .big{font-size:1.25em;font-weight:bold}
    .bars{height:46px;background:repeating-linear-gradient(90deg,var(--fg) 0 2px,transparent 2px 5px,var(--fg) 5px 6px,transparent 6px 9px)}"""
    labels = ""
    for _ in range(4):
        labels += (f'<div class="lab"><div class="sec">{p.w("sender")}: {p.ui("Acme Store")} · {p.d("support_phone")}</div>'
                   f'<div class="sec">{p.w("to")}<div class="big">{p.v(vals.name())}</div>'
                   f"{p.v(vals.address(), multiline=True)}<br>{p.v(vals.phone())}</div>"
                   f'<div class="sec">{p.w("tracking")}: {p.d("tracking_no")}<div class="bars"></div></div>'
                   f'<div class="sec">{p.w("order")}: {p.d("order_no")} · {p.w("weight")}: {p.ui("1.2 kg")}</div></div>')  # fmt: skip
    return (
        css,
        f'<div class="wrap">{labels}</div><div style="padding:0 18px"><span class="btn">{p.w("print")}</span></div>',
    )


def invoice_viewer(p: Page) -> tuple[str, str]:
    vals = p.values
    css = """body{background:#525659} .bar{background:#323639;color:#fff;padding:6px 12px}
    .sheet{width:800px;margin:16px auto;background:#fff;color:#222;padding:40px;font-family:var(--serif, inherit)}
    table{width:100%;margin-top:20px} td,th{padding:6px;border-bottom:1px solid #ccc;text-align:left}
    .cols{display:flex;justify-content:space-between}"""
    items = "".join(f"<tr><td>{p.d('sku')}</td><td>{p.ui(str(p.rng.randrange(1, 9)))}</td><td>{p.d('amount')}</td>"
                    f"<td>{p.d('amount')}</td></tr>" for _ in range(6))  # fmt: skip
    body = (f'<div class="bar">{p.ui("invoice.pdf")} · {p.w("page")} 1/1 · {p.w("download")} · {p.w("print")}</div>'
            f'<div class="sheet"><div class="cols"><div><b>{p.ui("Acme Trading")}</b><br>{p.w("support")}: '
            f'{p.d("support_phone")}</div><div><b>{p.w("invoice")}</b> {p.d("invoice_no")}<br>{p.w("order")}: '
            f'{p.d("order_no")}</div></div><p><b>{p.w("bill_to")}</b><br>{p.v(vals.name())}<br>'
            f"{p.v(vals.address(), multiline=True)}<br>{p.v(vals.email())}<br>{p.v(vals.phone())}</p>"
            f'<table><tr><th>{p.w("items")}</th><th>{p.w("qty")}</th><th>{p.w("price")}</th><th>{p.w("amount")}</th></tr>'
            f'{items}</table><p style="text-align:right"><b>{p.w("total")}</b> {p.d("amount")}</p>'
            f"<p>IBAN: {p.v(vals.iban())}</p></div>")  # fmt: skip
    return css, body


def long_chat(p: Page) -> tuple[str, str]:
    vals, g = p.values, GREET[p.language]
    css = """.msgs{max-width:780px;margin:0 auto;padding:16px;height:100vh;overflow:auto}
    .row{display:flex;gap:10px;margin:12px 0} .m{padding:10px 14px;border-radius:12px;background:var(--bubble2);line-height:1.55}
    .who{font-weight:600}"""
    out = ""
    for i in range(10):
        n = vals.name()
        filler = html.escape(" ".join(g[j % 4] for j in range(i % 3 + 1)))
        body = (
            f"{filler} {p.word('address')}: {p.v(vals.address())}. {p.word('phone')} {p.v(vals.phone())}, "
            f"{p.v(vals.email())}. {p.word('order')} {p.d('order_no')}, {p.d('amount')}. "
            f"{html.escape(g[1])} {p.v(vals.name())} {html.escape(g[2])}<br>{p.v(vals.given_name())}"
        )
        out += f'<div class="row">{p.avatar(n, 36)}<div><span class="who">{p.v(n)}</span><div class="m">{body}</div></div></div>'
    return css, f'<div class="msgs">{out}</div>'


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("order_admin", order_admin, ".main", False),
        Template("support_chat", support_chat, None, True),
        Template("crm_card", crm_card, None, True),
        Template("bank_transfer", bank_transfer, None, True),
        Template("webmail", webmail, None, False),
        Template("video_meeting", video_meeting, None, False),
        Template("sql_terminal", sql_terminal, None, False),
        Template("excel_grid", excel_grid, "html", False),
        Template("spreadsheet_export", spreadsheet_export, "html", False),
        Template("hr_form", hr_form, None, True),
        Template("shipping_label", shipping_label, None, False),
        Template("invoice_viewer", invoice_viewer, None, False),
        Template("long_chat", long_chat, ".msgs", False),
    )
}
