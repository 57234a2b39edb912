"""What every template uses: the page context (values, UI words, marks) and the shared CSS.

A personal value is written as `<span data-v=TYPE data-l=LANG data-n=in|out>`, a decoy as
`<span data-d=KIND>`; `bench.browser.render` reads the boxes of exactly these spans from the DOM.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

from bench.browser.values import Value, Values

# UI words: key -> (ko, ja, fr, en)
WORDS: dict[str, tuple[str, str, str, str]] = {
    "name": ("이름", "氏名", "Nom", "Name"),
    "customer": ("고객", "顧客", "Client", "Customer"),
    "email": ("이메일", "メール", "E-mail", "Email"),
    "phone": ("전화번호", "電話番号", "Téléphone", "Phone"),
    "address": ("주소", "住所", "Adresse", "Address"),
    "ship_to": ("배송지", "お届け先", "Livraison", "Ship to"),
    "dob": ("생년월일", "生年月日", "Date de naissance", "Date of birth"),
    "account": ("계좌번호", "口座番号", "Compte", "Account"),
    "card": ("카드번호", "カード番号", "Carte", "Card number"),
    "iban": ("IBAN", "IBAN", "IBAN", "IBAN"),
    "national_id": ("주민등록번호", "マイナンバー", "N° sécu", "SSN / NI number"),
    "order": ("주문번호", "注文番号", "Commande", "Order"),
    "date": ("날짜", "日付", "Date", "Date"),
    "amount": ("금액", "金額", "Montant", "Amount"),
    "status": ("상태", "ステータス", "Statut", "Status"),
    "items": ("상품", "商品", "Articles", "Items"),
    "paid": ("결제완료", "支払済", "Payée", "Paid"),
    "shipped": ("배송중", "発送済", "Expédiée", "Shipped"),
    "pending": ("대기", "保留", "En attente", "Pending"),
    "search": ("검색", "検索", "Rechercher", "Search"),
    "save": ("저장", "保存", "Enregistrer", "Save"),
    "cancel": ("취소", "キャンセル", "Annuler", "Cancel"),
    "send": ("보내기", "送信", "Envoyer", "Send"),
    "orders": ("주문 관리", "注文管理", "Commandes", "Orders"),
    "dashboard": ("대시보드", "ダッシュボード", "Tableau de bord", "Dashboard"),
    "products": ("상품 관리", "商品管理", "Produits", "Products"),
    "settings": ("설정", "設定", "Paramètres", "Settings"),
    "reports": ("리포트", "レポート", "Rapports", "Reports"),
    "inbox": ("받은편지함", "受信トレイ", "Boîte de réception", "Inbox"),
    "sent": ("보낸편지함", "送信済み", "Envoyés", "Sent"),
    "drafts": ("임시보관함", "下書き", "Brouillons", "Drafts"),
    "reply": ("답장", "返信", "Répondre", "Reply"),
    "forward": ("전달", "転送", "Transférer", "Forward"),
    "from": ("보낸 사람", "差出人", "De", "From"),
    "to": ("받는 사람", "宛先", "À", "To"),
    "subject": ("제목", "件名", "Objet", "Subject"),
    "notes": ("메모", "メモ", "Notes", "Notes"),
    "company": ("회사", "会社", "Société", "Company"),
    "employee": ("직원 정보", "従業員情報", "Fiche salarié", "Employee record"),
    "department": ("부서", "部署", "Service", "Department"),
    "emergency": ("비상 연락처", "緊急連絡先", "Contact d'urgence", "Emergency contact"),
    "transfer": ("계좌 이체", "振込", "Virement", "Transfer"),
    "recipient": ("받는 분", "振込先", "Bénéficiaire", "Recipient"),
    "from_account": ("출금 계좌", "出金口座", "Compte débité", "From account"),
    "reference": ("메모", "振込依頼人", "Référence", "Reference"),
    "confirm": ("이체하기", "振込実行", "Valider", "Confirm"),
    "recent": ("최근 이체", "最近の振込", "Virements récents", "Recent transfers"),
    "invoice": ("청구서", "請求書", "Facture", "Invoice"),
    "bill_to": ("청구 대상", "請求先", "Facturer à", "Bill to"),
    "total": ("합계", "合計", "Total", "Total"),
    "qty": ("수량", "数量", "Qté", "Qty"),
    "price": ("단가", "単価", "Prix", "Price"),
    "support": ("고객센터", "サポート窓口", "Service client", "Support"),
    "tracking": ("운송장", "追跡番号", "Suivi", "Tracking"),
    "sender": ("보내는 분", "ご依頼主", "Expéditeur", "Sender"),
    "weight": ("중량", "重量", "Poids", "Weight"),
    "participants": ("참가자", "参加者", "Participants", "Participants"),
    "chat": ("채팅", "チャット", "Discussion", "Chat"),
    "mute": ("음소거", "ミュート", "Couper le micro", "Mute"),
    "leave": ("나가기", "退出", "Quitter", "Leave"),
    "share": ("화면 공유", "画面共有", "Partager", "Share screen"),
    "type_message": ("메시지 입력", "メッセージを入力", "Écrire un message", "Type a message"),
    "conversations": ("대화", "会話", "Conversations", "Conversations"),
    "open": ("진행중", "対応中", "Ouvert", "Open"),
    "activity": ("활동", "アクティビティ", "Activité", "Activity"),
    "export": ("내보내기", "エクスポート", "Exporter", "Export"),
    "file": ("파일", "ファイル", "Fichier", "File"),
    "edit": ("편집", "編集", "Édition", "Edit"),
    "view": ("보기", "表示", "Affichage", "View"),
    "insert": ("삽입", "挿入", "Insertion", "Insert"),
    "data": ("데이터", "データ", "Données", "Data"),
    "print": ("인쇄", "印刷", "Imprimer", "Print"),
    "download": ("다운로드", "ダウンロード", "Télécharger", "Download"),
    "page": ("페이지", "ページ", "Page", "Page"),
    "hire_date": ("입사일", "入社日", "Date d'entrée", "Hire date"),
    "position": ("직급", "役職", "Poste", "Position"),
    "salary_account": ("급여 계좌", "給与振込口座", "Compte de paie", "Payroll account"),
    "owner": ("담당자", "担当者", "Responsable", "Owner"),
}
GREET = {
    "ko": ("안녕하세요, 주문 관련 문의드립니다.", "확인 부탁드립니다.", "감사합니다.", "배송지를 변경하고 싶어요. 새 주소는"),
    "ja": ("お世話になっております。", "ご確認をお願いいたします。", "よろしくお願いいたします。", "お届け先を変更したいです。新しい住所は"),
    "fr": ("Bonjour, je vous écris au sujet de ma commande.", "Merci de vérifier.", "Cordialement,",
           "Je souhaite changer l'adresse de livraison. La nouvelle adresse est"),
    "en": ("Hi, I'm writing about my order.", "Could you please check?", "Thanks,",
           "I'd like to change the delivery address. The new one is"),
}  # fmt: skip

BASE_CSS = """
:root { --bg:#ffffff; --fg:#1f2328; --muted:#59636e; --panel:#f6f8fa; --line:#d1d9e0; --accent:#0969da;
        --accent-fg:#ffffff; --bubble:#e8f0fe; --bubble2:#f1f3f4; }
html.dark { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --panel:#161b22; --line:#30363d;
            --accent:#2f81f7; --accent-fg:#ffffff; --bubble:#1f3a5f; --bubble2:#21262d; }
* { box-sizing: border-box; }
html, body { margin:0; padding:0; background:var(--bg); color:var(--fg); }
body { font-size: var(--fs); line-height: 1.45; min-height: 100vh; }
table { border-collapse: collapse; }
.btn { display:inline-block; padding:4px 12px; border-radius:6px; background:var(--accent); color:var(--accent-fg); }
.btn2 { display:inline-block; padding:4px 12px; border-radius:6px; border:1px solid var(--line); }
.muted { color:var(--muted); }
.av { display:inline-flex; align-items:center; justify-content:center; border-radius:50%; color:#fff;
      font-weight:600; flex:none; }
"""
AVATAR_COLOURS = ("#1e88e5", "#43a047", "#e53935", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#3949ab")


@dataclass
class Page:
    """The context a template writes into: the screen's language, its values, its random stream."""

    language: str
    values: Values
    rng: random.Random

    def w(self, key: str) -> str:
        """A UI word, marked as a label (a decoy for over-masking)."""
        return self.ui(WORDS[key][("ko", "ja", "fr", "en").index(self.language)])

    def word(self, key: str) -> str:
        """A UI word, unmarked (inside a sentence or an attribute)."""
        return html.escape(WORDS[key][("ko", "ja", "fr", "en").index(self.language)])

    def ui(self, text: str) -> str:
        return f'<span data-d="ui_label">{html.escape(text)}</span>'

    def v(self, value: Value | None, multiline: bool = False, attrs: str = "") -> str:
        """A personal value's span; an address keeps its line breaks only when `multiline`."""
        if value is None:
            return ""
        lines = [html.escape(s) for s in value.text.split("\n")]
        body = "<br>".join(lines) if multiline else ", ".join(lines)
        return f'<span data-v="{value.type}" data-l="{self.language}" data-n="{value.listed}"{attrs}>{body}</span>'

    def d(self, kind: str) -> str:
        return f'<span data-d="{kind}">{html.escape(self.values.decoy(kind).text)}</span>'

    def avatar(self, name: Value, px: int) -> str:
        """An initials disc: the given name's syllables (ko), the surname's first character (ja),
        first letters else."""
        compact = name.text.replace(" ", "").replace("\u3000", "")
        if self.language == "ko":
            glyphs = compact[-2:]
        elif self.language == "ja":
            glyphs = compact[:1]
        else:
            words = [w for w in name.text.split() if w[:1].isalpha()]
            glyphs = (words[0][0] + words[-1][0]).upper() if len(words) > 1 else compact[:1]
        colour = self.rng.choice(AVATAR_COLOURS)
        return (
            f'<span class="av" data-v="avatar" data-l="{self.language}" data-n="" style="width:{px}px;'
            f'height:{px}px;background:{colour};font-size:{int(px * 0.38)}px">{html.escape(glyphs)}</span>'
        )
