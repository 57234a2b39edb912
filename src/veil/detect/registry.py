"""The recognizer registry: built-in recognizers and those other packages add.

Adding a recognizer is one line: `register(MyRecognizer)` (any zero-argument callable returning
a `Recognizer`). `default_analyzer(options)` builds every registered recognizer, minus the types
the policy disables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from veil.detect.addresses import (
    EnglishAddressRecognizer,
    FrenchAddressRecognizer,
    JapaneseAddressRecognizer,
    KoreanAddressRecognizer,
)
from veil.detect.analyzer import Analyzer
from veil.detect.anglo import (
    UkDrivingLicenceRecognizer,
    UkNhsRecognizer,
    UkNinoRecognizer,
    UsEinRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)
from veil.detect.base import Recognizer
from veil.detect.contact import EmailRecognizer, IpAddressRecognizer, PhoneRecognizer
from veil.detect.custom import policy_recognizers
from veil.detect.dates import DateOfBirthRecognizer
from veil.detect.finance import BankAccountRecognizer, CardRecognizer, IbanRecognizer
from veil.detect.france import FrNirRecognizer
from veil.detect.japan import JpMyNumberRecognizer
from veil.detect.korea import (
    KrBrnRecognizer,
    KrDriverLicenceRecognizer,
    KrFrnRecognizer,
    KrPassportRecognizer,
    KrRrnRecognizer,
)
from veil.detect.labels import LabelledValueRecognizer, LabelVocabulary
from veil.detect.names import JapaneseNameRecognizer, KoreanNameRecognizer, LatinNameRecognizer
from veil.exceptions import PolicyError
from veil.options import DetectOptions

RecognizerFactory = Callable[[], Recognizer]

_FACTORIES: list[RecognizerFactory] = [
    EmailRecognizer,
    PhoneRecognizer,
    CardRecognizer,
    IbanRecognizer,
    BankAccountRecognizer,
    KrRrnRecognizer,
    KrFrnRecognizer,
    KrBrnRecognizer,
    KrPassportRecognizer,
    KrDriverLicenceRecognizer,
    JpMyNumberRecognizer,
    FrNirRecognizer,
    UsSsnRecognizer,
    UsItinRecognizer,
    UsEinRecognizer,
    UkNinoRecognizer,
    UkNhsRecognizer,
    UkDrivingLicenceRecognizer,
    IpAddressRecognizer,
    DateOfBirthRecognizer,
    KoreanNameRecognizer,
    JapaneseNameRecognizer,
    LatinNameRecognizer,
    KoreanAddressRecognizer,
    JapaneseAddressRecognizer,
    FrenchAddressRecognizer,
    EnglishAddressRecognizer,
    LabelledValueRecognizer,
]


def register(factory: RecognizerFactory) -> RecognizerFactory:
    """Add a recognizer to every analyzer built from now on. Usable as a class decorator."""
    if factory not in _FACTORIES:
        _FACTORIES.append(factory)
    return factory


def recognizers_for(
    languages: Iterable[str] | None = None, disabled_types: Iterable[str] = ()
) -> list[Recognizer]:
    """Fresh instances of the registered recognizers that handle any of `languages` (all when
    None), without those whose every type is disabled."""
    wanted = None if languages is None else set(languages)
    disabled = set(disabled_types)
    out = []
    for factory in _FACTORIES:
        recognizer = factory()
        if wanted is not None and not wanted.intersection(recognizer.languages):
            continue
        if recognizer.types and set(recognizer.types) <= disabled:
            continue
        out.append(recognizer)
    return out


def known_types() -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for factory in _FACTORIES for t in factory().types))


def default_analyzer(options: DetectOptions | None = None) -> Analyzer:
    """An analyzer with every registered recognizer, honouring `options` (policy `detect:`).

    Raises PolicyError when `disabled_types` names a type no recognizer reports: a typo there
    would otherwise silently leave a type enabled.
    """
    options = options or DetectOptions()
    unknown = sorted(set(options.disabled_types) - set(known_types()))
    if unknown:
        raise PolicyError(
            f"unknown type in 'detect.disabled_types': {', '.join(unknown)} "
            f"(known types: {', '.join(known_types())})"
        )
    recognizers = [
        r
        for r in recognizers_for(disabled_types=options.disabled_types)
        if not isinstance(r, LabelledValueRecognizer)
    ]
    recognizers += policy_recognizers(options.patterns, options.deny)
    # Policy labels (and those of its own patterns) extend the built-in vocabulary, both for
    # layout context and labelled values.
    labels = {label: p.type for p in options.patterns for label in p.labels} | dict(options.labels)
    recognizers.append(LabelledValueRecognizer(extra_labels=labels))
    return Analyzer(
        recognizers,
        options.min_score,
        options.disabled_types,
        LabelVocabulary(extra_labels=labels),
        allow=options.allow,
    )
