"""Person names: Korean (surname list + kiwipiepy), Japanese (fugashi + unidic-lite person-name
tags) and French/English (first-name and surname lists, capitalisation, titles, mail headers).

Evidence is scored so the analyzer's threshold (0.4) keeps a name when either the words
themselves are convincing (a known surname followed by an unknown given name, a listed first
name followed by a listed surname) or the surroundings say "person" (an honorific such as 님 /
様 / Mme, a "From:" header, a name label in `context`). Bare ambiguous words stay below it.

The morphological analysers load lazily on first use (Kiwi takes ~2 s) and once per process.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from veil.detect.base import Recognizer
from veil.detect.normalize import NormalizedText, normalize
from veil.exceptions import EngineError
from veil.models import TextSpan

TYPE = "person_name"
STRONG = 0.85  # a name with person context (honorific, title, header, label)
MEDIUM = 0.6  # a name by its words alone
WEAK = 0.3  # a lone ambiguous word: reported, but below the default threshold


@cache
def word_list(name: str) -> frozenset[str]:
    """A list shipped in `veil/detect/data/` (one entry a line, '#' comments)."""
    text = resources.files("veil.detect").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#"))


def _span(norm: NormalizedText, start: int, end: int, score: float, recognizer: str) -> TextSpan:
    a, b = norm.to_original(start, end)
    return TextSpan(a, b, TYPE, score, recognizer)


def _context_says_name(context: str) -> bool:
    from veil.detect.labels import label_type  # labels imports nothing from here; avoid a cycle

    return bool(context) and label_type(context) == TYPE


# --------------------------------------------------------------------------------------------
# Korean

_HANGUL_RUN = re.compile(r"[가-힣]+")
_JAMO = re.compile(r"[\u3131-\u318e\u1100-\u11ff]")
# Titles and honorifics written after a name, inside the same word or as the next word.
_KO_TITLES = (
    "고객님", "선생님", "교수님", "회원님", "담당자님", "담당자", "매니저님", "매니저", "팀장님", "팀장",
    "부장님", "부장", "과장님", "과장", "차장님", "차장", "대리님", "대리", "사원님", "사원",
    "주임님", "주임", "대표님", "대표", "이사님", "실장님", "실장", "원장님", "님", "씨",
    "귀하", "고객",
)  # fmt: skip
_KO_PARTICLES = (
    "입니다", "이에요", "예요", "인데요", "이고", "이며", "이었습니다",
    "에게서", "한테서", "께서", "에게", "한테", "이랑", "랑", "이가", "과의", "와의", "은", "는",
    "을", "를", "의", "와", "과", "도", "만", "께", "이", "가",
)  # fmt: skip


# A message's closing right after a name signs it off ("김서영 감사합니다", "김서영 드림"; OCR may
# space it out or glue it to the name).
_KO_CLOSINGS = ("감사합니다", "감사드립니다", "드림", "올림", "배상")


def _spaced(words: tuple[str, ...]) -> str:
    """An alternation of `words` that tolerates a space between any two syllables: Tesseract's
    Korean model often spaces syllables out ("받는 사 람 은")."""
    return "|".join("[ ]?".join(w.replace(" ", "")) for w in sorted(words, key=len, reverse=True))


# Words that announce the person named right after them ("받는 사람 이서연", "담당자: 김민준").
_KO_LEADS = ("담당자", "작성자", "보낸 사람", "받는 사람", "보내는 사람", "받는 분", "보내는 분", "발신인",
             "수신인", "예금주", "상담원", "수령인")  # fmt: skip
_KO_BEFORE = re.compile(rf"(?:{_spaced((*_KO_LEADS, '담당', '고객'))})\s*[:：]?\s*$")
# The same with a topic or subject particle ("받는 사람은 이서연"): a sentence, so the word after
# must not be a verb or adjective (checked with Kiwi: "받는 사람은 이상한 ...").
_KO_BEFORE_TOPIC = re.compile(rf"(?:{_spaced(_KO_LEADS)})[ ]?[은는이가]\s*$")
# A lead glued to the name by OCR ("받는사람은임은서"): split the run after the particle.
_KO_GLUED_LEAD = re.compile(rf"(?:{_spaced(_KO_LEADS)})[은는이가]?")
# Hangul the OCR read as Latin letters ("받는 사람은 AAS"), or a foreign recipient: the word(s)
# right after a lead are the name whatever their script.
_KO_LATIN_AFTER = re.compile(
    rf"(?:{_spaced(_KO_LEADS)})[ ]?(?:[은는이가][ ]?)?[:：]?[ ]?"
    r"(?P<name>[A-Za-z][A-Za-z'.-]+(?:[ ][A-Za-z][A-Za-z'.-]+){0,2})(?=[ ]?[,.]|[ ][가-힣]|[ ]?$)"
)
# Common words that start with a surname syllable; never names on their own (이상, 정말, ...).
_KO_COMMON = word_list("ko_common_words.txt")
# Endings of place, organisation and product names that Kiwi tags as proper nouns (강남구, 신한은행).
_KO_PLACE_SUFFIX = (
    "시", "도", "구", "군", "읍", "면", "로", "길", "역", "어", "점", "동",
    "은행", "카드", "증권", "보험", "마트", "전자", "그룹", "회사", "병원", "학교", "센터", "공사",
    "공항", "백화점", "몰", "앱", "페이",
)  # fmt: skip


@cache
def _kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi

        return Kiwi()
    except Exception as exc:  # noqa: BLE001 - any load failure is an engine failure
        raise EngineError(f"kiwipiepy could not load: {type(exc).__name__}") from None


def glued_korean_names(text: str) -> list[tuple[int, int]]:
    """Offsets of Korean names glued to the words around them ("김민수없는파일"), as Kiwi cuts
    them: a proper noun of 3-4 syllables that starts with a listed surname. Meant for file names
    and other short labels, where a false hit only hides a word from a message; on screens the
    recognizer's own rules (titles, labels, spacing) decide."""
    if not _HANGUL_RUN.search(text):
        return []
    out = []
    for t in _kiwi().tokenize(text):
        word = text[t.start : t.start + t.len]
        if (
            t.tag == "NNP"
            and 3 <= len(word) <= 4
            and _HANGUL_RUN.fullmatch(word)
            and _surname_split(word)
            and word not in _KO_COMMON
            and not word.endswith(_KO_PLACE_SUFFIX)
        ):
            out.append((t.start, t.start + t.len))
    return out


def _surname_split(core: str) -> int:
    """Length of the surname `core` starts with (two-syllable surnames first), or 0."""
    surnames = word_list("ko_surnames.txt")
    for n in (2, 1):
        if len(core) > n and core[:n] in surnames and 1 <= len(core) - n <= 3:
            return n
    return 0


class KoreanNameRecognizer(Recognizer):
    """Hangul words of 2-5 syllables starting with a listed surname. With a title (님, 씨, 고객님,
    담당자, 과장 ...) or a name label they score high; alone, a 3-4 syllable word scores as a
    name only when Kiwi finds it unknown or a proper noun (common nouns such as 이용자 do not).
    OCR spacing is tolerated: "김 민준", and "임 은 서" after a lead or before a title."""

    name = "ko-person-name"
    types = (TYPE,)
    languages = ("ko",)

    def load(self) -> None:
        _kiwi().tokenize("김민수")  # Kiwi builds its model on the first text, not at construction

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        norm = normalize(text)
        s = norm.text
        runs = _split_glued_leads(s, [(m.start(), m.end()) for m in _HANGUL_RUN.finditer(s)])
        if not runs:
            return []
        labelled = _context_says_name(context)
        # A lone jamo before a name is an icon or a bar the OCR read ("ㅣ승재호": a microphone):
        # Kiwi would glue it to the name; a space in its place keeps every offset.
        tokens: list[Any] = _kiwi().tokenize(_JAMO.sub(" ", s))
        out = [
            _span(norm, m.start("name"), m.end("name"), STRONG, self.name)
            for m in _KO_LATIN_AFTER.finditer(s)
        ]
        i = 0
        while i < len(runs):
            a, b = runs[i]
            spaced = self._spaced_name(s, runs, i, labelled, tokens)
            if spaced is not None:
                out.append(_span(norm, a, spaced[0], spaced[1], self.name))
                i += spaced[2]
                continue
            found = self._judge(s, a, b, runs, i, labelled, tokens, spaced=False)
            if found is not None:
                out.append(_span(norm, a, found[0], found[1], self.name))
            i += 1
        return out

    def _spaced_name(
        self, s: str, runs: list[tuple[int, int]], i: int, labelled: bool, tokens: list[Any]
    ) -> tuple[int, float, int] | None:
        """(end, score, runs used) for a name OCR spaced out: a lone surname syllable, then the
        given name as one run ("김 민준") or as single syllables ("임 은 서")."""
        a, b = runs[i]
        if b - a != 1 or s[a] not in word_list("ko_surnames.txt"):
            return None
        if _KO_BEFORE_TOPIC.search(s[:b]):
            return None  # "받는 사 람 은 ...": the syllable is the lead's particle, not a surname

        def adjacent(j: int) -> bool:  # run j+1 follows run j after exactly one space
            return j + 1 < len(runs) and runs[j + 1][0] == runs[j][1] + 1

        if not adjacent(i):
            return None
        second = runs[i + 1]
        if second[1] - second[0] >= 2:  # "김 민준", "김 민준님"
            found = self._judge(s, a, second[1], runs, i + 1, labelled, tokens, spaced=True)
            used = 2
        elif adjacent(i + 1):  # "임 은 서", "임 은 서님"
            found = self._judge(s, a, runs[i + 2][1], runs, i + 2, labelled, tokens, spaced=True)
            # Single syllables are what a spaced-out sentence looks like too ("주 소 는"):
            # only a lead, a title or a label makes them a name.
            if found is not None and found[1] < STRONG:
                found = None
            used = 3
        else:
            return None
        return None if found is None else (found[0], found[1], used)

    def _judge(
        self,
        s: str,
        a: int,
        b: int,
        runs: list[tuple[int, int]],
        i: int,
        labelled: bool,
        tokens: list[Any],
        spaced: bool,
    ) -> tuple[int, float] | None:
        """(end of the name, score) for the word s[a:b] (spaces inside when `spaced`), or None;
        `runs[i]` is the word's last run."""
        word = s[a:b].replace(" ", "")
        following = s[runs[i + 1][0] : runs[i + 1][1]] if i + 1 < len(runs) else ""
        before = bool(_KO_BEFORE.search(s[:a]))
        topic = not before and bool(_KO_BEFORE_TOPIC.search(s[:a]))
        for core_len, suffixed in _cores(word):
            core = word[:core_len]
            if core in _KO_COMMON or not _surname_split(core):
                continue
            # "김 민준": the spaced given name is two syllables and not a common word ("주 정도면").
            if spaced and (len(core) != 3 or core[1:] in _KO_COMMON):
                continue
            end = _end_after(s, a, core_len)
            if (before or topic) and not suffixed and _inflected(tokens, a, end):
                continue  # "받는 사람은 이상한 ...": an adjective, not a name
            titled = suffixed or following.startswith(_KO_TITLES) or before or topic
            if titled or labelled or _signed_off(s, a, end, tokens):
                return end, STRONG
            if spaced and (_SPACED_OUT_BEFORE.search(s[:a]) or _common_noun(tokens, a + 2, end)):
                # "세 금 계 산서": one syllable of a spaced-out sentence, not a surname; "제 입금":
                # the "given name" is a word Kiwi knows. Only a lead, a title or a label would do.
                continue
            if len(core) >= 3 and (spaced or self._unknown_or_proper(tokens, a, end, core)):
                return end, MEDIUM
        return None

    @staticmethod
    def _unknown_or_proper(tokens: list[Any], a: int, end: int, core: str) -> bool:
        if core.endswith(_KO_PLACE_SUFFIX):
            return False
        inside = [t for t in tokens if a <= t.start < end]
        if not inside or any(t.tag.startswith(("V", "E", "M", "J")) and t.start > a for t in inside):
            return False
        return any(t.oov or t.tag == "NNP" for t in inside)


# A lone syllable right before: the OCR spaced out every syllable of this stretch of text.
_SPACED_OUT_BEFORE = re.compile(r"(?:^|[ ])[\uac00-\ud7a3][ ]$")


def _common_noun(tokens: list[Any], a: int, end: int) -> bool:
    """Whether Kiwi reads s[a:end] as one known common noun (입금, 계좌), not an unknown word."""
    inside = [t for t in tokens if a <= t.start < end]
    return len(inside) == 1 and inside[0].tag == "NNG" and not inside[0].oov and inside[0].start == a


def _signed_off(s: str, a: int, end: int, tokens: list[Any]) -> bool:
    """Whether s[a:end] is a full name (3-4 syllables) that a message's closing follows, and not
    words Kiwi knows: a noun and a particle ("오늘도", "진심으로"), common nouns ("고객센터")."""
    if not 3 <= len(s[a:end].replace(" ", "")) <= 4 or not s[end:].replace(" ", "").startswith(_KO_CLOSINGS):
        return False
    inside = [t for t in tokens if a <= t.start < end]
    grammar = any(t.tag.startswith(("V", "E", "J", "XS")) for t in inside)
    return bool(inside) and not grammar and not all(t.tag == "NNG" and not t.oov for t in inside)


def _inflected(tokens: list[Any], a: int, end: int) -> bool:
    """Whether Kiwi reads s[a:end] as (part of) a verb or adjective: a stem or suffix inside it."""
    return any(a <= t.start < end and t.tag.startswith(("V", "XS", "E")) for t in tokens)


def _end_after(s: str, a: int, syllables: int) -> int:
    """The offset just past the `syllables`-th non-space character from `a`."""
    count = 0
    for j in range(a, len(s)):
        if s[j] != " ":
            count += 1
            if count == syllables:
                return j + 1
    return len(s)


def _split_glued_leads(s: str, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split a run where OCR glued a lead to the name after it ("받는사람은임은서")."""
    out: list[tuple[int, int]] = []
    for a, b in runs:
        m = _KO_GLUED_LEAD.match(s, a, b)
        if m is not None and 2 <= b - m.end() <= 5 and " " not in s[a : m.end()]:
            out += [(a, m.end()), (m.end(), b)]
        else:
            out.append((a, b))
    return out


def _cores(word: str) -> list[tuple[int, bool]]:
    """Candidate name lengths inside `word` (longest first) and whether a title follows."""
    out: list[tuple[int, bool]] = []
    for title in _KO_TITLES:
        for tail in ("", *_KO_PARTICLES):
            suffix = title + tail
            if word.endswith(suffix) and len(word) > len(suffix):
                out.append((len(word) - len(suffix), True))
    for particle in (*_KO_PARTICLES, *_KO_CLOSINGS):
        if word.endswith(particle) and len(word) > len(particle) + 1:
            out.append((len(word) - len(particle), False))
    out.append((len(word), False))
    return [(n, t) for n, t in dict.fromkeys(out) if 2 <= n <= 5]


# --------------------------------------------------------------------------------------------
# Japanese

_JA_HONORIFICS = (
    "様", "さま", "さん", "殿", "氏", "君", "くん", "ちゃん", "先生", "部長", "課長", "社長",
)  # fmt: skip
_JA_BEFORE = re.compile(r"(担当者?|差出人|宛先|送信者|受取人|名義人?|署名)\s*[:：]?\s*$")


@cache
def _tagger() -> Any:
    try:
        import fugashi

        return fugashi.Tagger()
    except Exception as exc:  # noqa: BLE001 - any load failure is an engine failure
        raise EngineError(f"fugashi/unidic-lite could not load: {type(exc).__name__}") from None


class JapaneseNameRecognizer(Recognizer):
    """Runs of unidic person-name tokens (名詞-固有名詞-人名-姓/名): 姓 + 名 together score high,
    so does either one followed by 様 / さん / 殿 or after a name label; a lone 姓 scores medium."""

    name = "ja-person-name"
    types = (TYPE,)
    languages = ("ja",)

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        norm = normalize(text)
        s = norm.text
        if not s.strip() or s.isascii():
            return []
        labelled = _context_says_name(context)
        out: list[TextSpan] = []
        for start, end, kinds, after in _person_runs(_tagger(), s):
            titled = after.startswith(_JA_HONORIFICS) or bool(_JA_BEFORE.search(s[:start]))
            if titled or labelled or {"姓", "名"} <= kinds:
                score = STRONG
            elif kinds == {"姓"} and s[start:end] in word_list("ja_surnames.txt"):
                score = MEDIUM
            elif kinds == {"名"} and s[start:end] == s.strip():
                score = MEDIUM  # a given name alone on its line: a chat message's sender
            else:
                score = WEAK
            out.append(_span(norm, start, end, score, self.name))
        return out


def _person_runs(tagger: Any, s: str) -> list[tuple[int, int, set[str], str]]:
    """(start, end, {姓/名}, text after) for each run of person-name tokens, a space allowed
    between family and given name."""
    runs: list[tuple[int, int, set[str], str]] = []
    pos = 0
    current: tuple[int, int, set[str]] | None = None
    for word in tagger(s):
        surface = word.surface
        start = s.find(surface, pos)
        if start < 0:  # MeCab dropped or changed a character; keep position monotone
            continue
        pos = start + len(surface)
        f = word.feature
        is_person = f.pos2 == "固有名詞" and f.pos3 == "人名" and f.pos4 in ("姓", "名")
        if is_person and current and s[current[1] : start].strip() == "" and start - current[1] <= 1:
            current = (current[0], pos, current[2] | {f.pos4})
            continue
        if current:
            runs.append((*current, s[current[1] :].lstrip()))
            current = None
        if is_person:
            current = (start, pos, {f.pos4})
    if current:
        runs.append((*current, s[current[1] :].lstrip()))
    return runs


# --------------------------------------------------------------------------------------------
# French and English

# A capitalised word, an Irish/Scottish/French prefix allowed ("O'Brien", "McAdams", "D'Souza").
_CAP = r"(?:O['’]|D['’]|Mc|Mac)?[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[-'’][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?"
_UPPER = r"[A-ZÀ-ÖØ-Þ]{2,}(?:[-'][A-ZÀ-ÖØ-Þ]{2,})?"
_NAME_WORDS = rf"(?:{_CAP}|{_UPPER}|[A-Z]\.)(?:[ ](?:{_CAP}|{_UPPER}|[A-Z]\.)){{0,3}}"
_TITLES = (
    r"(?:Monsieur|Madame|Mademoiselle|Mme|Mlle|Mmes|M\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Prof\.?|Me|Maître)"
)
_GREETINGS = r"(?:Dear|Bonjour|Bonsoir|Cher|Chère|Hello|Hi|Merci|Thanks|Regards|Cordialement)"
# The words a message is signed off with; the name follows on the same line or the next one.
_SIGN_OFF = re.compile(
    r"(?i:thanks|thank you|many thanks|cheers|best|best regards|kind regards|warm regards|regards|"
    r"sincerely|yours|yours sincerely|yours truly|all the best|talk soon|merci|merci beaucoup|"
    r"cordialement|bien cordialement|bien à vous|amitiés|bises|salutations|à bientôt|bonne journée)"
    r"[ ]?[,!.]?"
)
_LEADING_TITLE = re.compile(r"(?:Monsieur|Madame|Mademoiselle|Mme|Mlle|M\.|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Me)")
_TITLED = re.compile(rf"(?<![\w]){_TITLES}[ ,]+(?P<name>{_NAME_WORDS})")
# After a greeting a name is written in title case: "Hi AMIE" is an OCR misreading of other text.
# A greeting opens a message or a sentence (the line's start, or after punctuation: "Noted. Thanks
# Anna", "[10:32] Hi Ann"); one amid other words is garbage read off icons ("x 4H Hi Ao à").
_GREETED = re.compile(
    rf"(?:^\s*|(?<=[.!?:;,)\]>»\"])\s*){_GREETINGS}[ ,]+"
    rf"(?P<name>{_CAP}(?:[ ](?:{_CAP}|{_UPPER}|[A-Z]\.)){{0,3}})"
)
_HEADER = re.compile(
    rf"(?:^|(?<=\s))(?:From|To|Cc|Bcc|De|À|A|Cc|Expéditeur|Destinataire|Sender|Recipient|Signed|Signé)"
    rf"[ ]?:[ ]*(?P<name>{_NAME_WORDS})"
)
# A conversation or meeting with someone, as chat and call window titles name it ("DM with Minsu
# Kim", "Meeting with Dr. Lee", "Conversation avec Marie Dupont").
_WITH = re.compile(
    r"(?:^|(?<=[\s(\[|]))(?i:dm|dms|direct message|chat|chatting|call|meeting|conversation|message|messages"
    r"|1:1|one-on-one|appel|réunion|entretien)[ ]+(?i:with|from|to|avec|de)[ ]+"
    rf"(?P<name>{_NAME_WORDS})"
)
# Particles before a surname: "Jean de La Fontaine", "Marie-Claire Le Goff", "Ludwig van Beethoven".
_PARTICLE = (
    r"(?:(?:de la|de l['’]|de|du|des|van der|van den|van|von der|von|der|di|da|del|della|dos|das|"
    r"ben|ibn|bin|al|el|le|la)[ ]|d['’]|l['’])"
)
_PAIR = re.compile(
    rf"(?<![\w])(?P<name>{_CAP}|{_UPPER})[ ](?:[A-Z]\.[ ])?(?P<particle>(?i:{_PARTICLE})(?:(?:La|Le)[ ])?)?"
    rf"(?P<second>{_CAP}|{_UPPER})(?![\w])"
)
_VOWEL = re.compile(r"[AEIOUYaeiouyÀ-ÆÈ-ÏÒ-ÖØ-Ýà-æè-ïò-öø-ýÿ]")
_WORD_START = re.compile(r"(?<![\w'-])[A-ZÀ-ÖØ-Þ]")
# Capitalised words that are never a surname after a first name ("Will Call", "May 2024").
_NOT_NAMES = word_list("latin_not_names.txt")


class LatinNameRecognizer(Recognizer):
    """French/English names: a title or greeting (Monsieur, Mme, Mr, Dr, Dear, Bonjour) or a
    mail header (From:, To:, De :, À :) followed by capitalised words scores high; a listed first
    name followed by a capitalised word scores medium, higher when the surname is listed too."""

    name = "latin-person-name"
    types = (TYPE,)
    languages = ("fr", "en")

    def analyze(self, text: str, context: str = "") -> list[TextSpan]:
        norm = normalize(text)
        s = _zero_as_o(norm.text)
        found: list[tuple[int, int, float]] = []
        for regex in (_TITLED, _GREETED, _HEADER, _WITH):
            for m in regex.finditer(s):
                a, b = _trim_name(s, m.start("name"), m.end("name"))
                if b > a:
                    found.append((a, b, STRONG))
        # Every word starts a candidate pair: "JM Justin Miller" (an avatar's initials read
        # before the name) must not hide "Justin Miller" behind the failed pair "JM Justin".
        for word in _WORD_START.finditer(s):
            pair = _PAIR.match(s, word.start())
            score = None if pair is None else _pair_score(pair.group("name"), pair.group("second"))
            if pair is not None and pair.group("particle"):
                # After a particle only a listed first name makes a name ("Tour de France" is none).
                score = STRONG if _is_first_name(pair.group("name")) else None
            if pair is not None and score is not None:
                found.append((pair.start(), pair.end(), score))
        # "DE MARÉCHAL Dorothée": a particle in capitals before a surname in capitals.
        found = [(_with_capital_particle(s, a), b, sc) for a, b, sc in found]
        signed = _SIGN_OFF.fullmatch(context.split("\n", 1)[0].strip()) if context else None
        if (_context_says_name(context) or signed) and not found and _looks_like_name_line(s):
            stripped = s.strip()
            a = s.index(stripped)
            found.append((a, a + len(stripped), STRONG))
        elif not found and _lone_first_name(s):
            stripped = s.strip()
            a = s.index(stripped)
            found.append((a, a + len(stripped), MEDIUM))
        return [_span(norm, a, b, sc, self.name) for a, b, sc in _best(found)]


_CAPITAL_PARTICLE = re.compile(r"(?<![\w])(?:DE LA|DE|DU|DES|LE|LA|VAN|VON|DA|DI|DOS)[ ]$")


def _with_capital_particle(s: str, a: int) -> int:
    """`a` moved back over a particle in capitals when the name starts with a surname in capitals."""
    word = s[a:].split(" ", 1)[0]
    m = _CAPITAL_PARTICLE.search(s, 0, a)
    return m.start() if m is not None and len(word) > 1 and word.isupper() else a


# A word of letters with a zero among them ("R0BERT", "J0hn"): OCR in monospaced fonts reads O as 0.
_ZERO_WORD = re.compile(r"(?<![\w])(?=[^\W\d_]*0)[^\W\d_0]*0[^\W\d_]*(?:0[^\W\d_]*)*(?![\w])")


def _zero_as_o(s: str) -> str:
    """`s` with 0 read as O (o in a lowercase word) inside words that are otherwise letters;
    one character for one, so offsets hold."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        letters = word.replace("0", "")
        if len(letters) < 2:
            return word
        inner = "O" if letters[1:].isupper() else "o"
        return "".join(("O" if i == 0 else inner) if c == "0" else c for i, c in enumerate(word))

    return _ZERO_WORD.sub(fix, s) if "0" in s else s


def _trim_name(s: str, a: int, b: int) -> tuple[int, int]:
    """Drop trailing words that are not names ("Dear Marie Team" keeps "Marie")."""
    words = s[a:b].split(" ")
    while words and words[-1].rstrip(".").title() in _NOT_NAMES:
        words.pop()
    # "Bonjour Mme Dupont": the title is not part of the name.
    while words and _LEADING_TITLE.fullmatch(words[0]):
        a += len(words.pop(0)) + 1
    if not any(_VOWEL.search(w) for w in words if not w.endswith(".")):
        return a, a  # "Hi Jz": no vowel, no name (OCR reading other script as Latin letters)
    return a, a + len(" ".join(words))


@cache
def _first_names() -> frozenset[str]:
    return word_list("latin_first_names.txt") | word_list("romanized_given_names.txt")


def _is_first_name(word: str) -> bool:
    """A listed first name, or a compound one whose first part is ("Marie-Claire", "Jean-Luc")."""
    firsts = _first_names()
    return word.title() in firsts or word.split("-", 1)[0].title() in firsts


def known_first_name(word: str) -> bool:
    """A first name of our lists or of the census's (`census_names`)."""
    return _is_first_name(word) or word.title() in census_names()[0]


# Census surnames down to this rank (of 88,799): about 75 % of people; further down the list
# holds ever more plain words ("Pay", "Save", "Home").
CENSUS_SURNAME_RANK = 10_000


@cache
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """First names and the commoner surnames of the US Census 1990 (the `names` package's
    data files, frequency order), title case; words of fewer than three letters left out."""

    def read(name: str, limit: int | None = None) -> list[str]:
        rows = resources.files("names").joinpath(name).read_text(encoding="ascii").splitlines()[:limit]
        return [w.title() for row in rows if len(w := row.split(" ", 1)[0]) >= 3]

    try:
        firsts = frozenset(read("dist.male.first") + read("dist.female.first")) - _NOT_NAMES
        lasts = frozenset(read("dist.all.last", CENSUS_SURNAME_RANK)) - _NOT_NAMES
    except (ImportError, OSError, UnicodeDecodeError) as exc:  # the frame fails closed (masked whole)
        raise EngineError(
            f"the census name lists (package 'names') could not load: {type(exc).__name__}; "
            "run the README's set-up again"
        ) from None
    return firsts, lasts


def _pair_score(first: str, second: str) -> float | None:
    firsts, lasts = _first_names(), word_list("latin_surnames.txt")
    f, l2 = first.title(), second.title()
    if f in _NOT_NAMES or l2 in _NOT_NAMES:
        return None
    census_firsts, census_lasts = census_names()
    given, family = word_list("romanized_given_names.txt"), word_list("romanized_surnames.txt")
    strong = (
        # Korean and Japanese names in Latin letters, in either order ("Minsu Kim", "Yamada Taro").
        (f in given and l2 in family)
        or (f in family and l2 in given)
        # "Marie DUPONT" or "DUPONT Marie": a listed first name with a capitalised surname.
        or (f in firsts and (l2 in lasts or second.isupper()))
        or (l2 in firsts and first.isupper() and len(first) > 2)
        # "PORTER Alyssa", "Alyssa PORTER": a census first name beside a census surname in capitals.
        or (first.isupper() and f in census_lasts and l2 in census_firsts)
        or (second.isupper() and f in census_firsts and l2 in census_lasts)
    )
    medium = (
        (f in firsts and second[0].isupper() and not second.isupper())
        # "Tyler Clark": first-name lists are never complete; a listed surname after a capitalised
        # word that is not a known non-name is a name too.
        or (l2 in lasts and first[0].isupper() and not first.isupper() and len(first) > 1)
        # "Georgina Ford": both words in the census lists, neither in capitals.
        or (f in census_firsts and l2 in census_lasts and not (first.isupper() or second.isupper()))
    )
    return STRONG if strong else MEDIUM if medium else None


def _lone_first_name(s: str) -> bool:
    """A line that is one first name and nothing else: a chat message's sender ("Tiffany" over
    the bubble), a sign-off on its own line. Listed or census first names, never a UI word or a
    known non-name ("May", "Home")."""
    word = s.strip()
    if not _CAP_WORD.fullmatch(word) or word in _NOT_NAMES:
        return False
    from veil.detect.labels import is_ui_text  # labels imports nothing from here; avoid a cycle

    if word in _first_names():
        return not is_ui_text(word)
    return (
        word in census_names()[0] and word not in word_list("latin_plain_words.txt") and not is_ui_text(word)
    )


_CAP_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?")


def _looks_like_name_line(s: str) -> bool:
    words = s.split()
    return 1 <= len(words) <= 4 and all(w[:1].isupper() and w.title() not in _NOT_NAMES for w in words)


def _best(found: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Drop spans overlapping a better (higher score, then longer) one."""
    kept: list[tuple[int, int, float]] = []
    for a, b, sc in sorted(found, key=lambda t: (-t[2], t[0] - t[1])):
        if all(b <= ka or kb <= a for ka, kb, _ in kept):
            kept.append((a, b, sc))
    return sorted(kept)
