from __future__ import annotations

import dataclasses
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic import phrasebook
from mirage_app.logic.offline_generator import OfflineGenerator
from mirage_app.logic.optout import fold, is_optout, with_optout_hint
from mirage_app.logic.prompts import (
    ANSWER,
    COMMENT,
    GOODBYE,
    GREETING,
    PHASES,
    QUESTION,
    ContactOptedOut,
    PersonaSpec,
    TopicSpec,
    Turn,
    round_phases,
)

ANA = PersonaSpec("Ana", "alegre", traits={"emoji_use": "medium", "typical_length": "medium"})
PLAIN = PersonaSpec("Rui")
STRICT = PersonaSpec(  # the fewest combinations: own greetings, formal, short, no emoji
    "Dr. Paulo",
    greeting_morning="Saudações matinais.",
    greeting_afternoon="Saudações vespertinas.",
    greeting_evening="Saudações noturnas.",
    traits={"emoji_use": "none", "typical_length": "short", "writing_style": "formal"},
)
CAKE = TopicSpec("receitas de bolo")
DAYPARTS = ["morning", "afternoon", "evening", None]
LINK = re.compile(r"https?://|www\.|\.com\b|\.br\b", re.I)
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def run_conversation(
    gen: OfflineGenerator, persona: PersonaSpec, topic: TopicSpec | None, locale: str, count: int
) -> list[str]:
    """Two speakers playing consecutive rounds of 2, 3 and 4 exchanges across dayparts; each sees the shared
    history from its own side."""
    plan = [turn for i in range(count) for turn in round_phases(2 + i % 3)][:count]
    lines: list[tuple[str, str]] = []
    for index, turn in enumerate(plan):
        daypart = DAYPARTS[(index // 9) % 4]
        history = [Turn(text, from_self=(who == turn.speaker)) for who, text in lines]
        lines.append((turn.speaker, gen.generate(persona, topic, daypart, turn.phase, history, locale)))
    return [text for _, text in lines]


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
@pytest.mark.parametrize("persona", [ANA, PLAIN, STRICT], ids=["ana", "plain", "strict"])
@pytest.mark.parametrize("topic", [CAKE, None], ids=["topic", "no-topic"])
def test_two_hundred_lines_never_repeat(locale: str, persona: PersonaSpec, topic: TopicSpec | None) -> None:
    lines = run_conversation(OfflineGenerator(random.Random(7)), persona, topic, locale, 200)
    folded = [fold(line) for line in lines]
    assert len(set(folded)) == len(folded) == 200
    assert all(line.strip() and not LINK.search(line) for line in lines)


@pytest.mark.parametrize("phase", PHASES)
def test_one_phase_two_hundred_times_with_the_tightest_persona(phase: str) -> None:
    gen = OfflineGenerator(random.Random(1))
    history: list[Turn] = []
    for _ in range(200):
        history.append(Turn(gen.generate(STRICT, None, "morning", phase, history, "pt-BR"), from_self=True))
    assert len({fold(t.text) for t in history}) == 200


def test_exhaustion_falls_back_deterministically() -> None:
    history: list[Turn] = []
    gen = OfflineGenerator(random.Random(3), random_attempts=0)
    for _ in range(400):
        history.append(Turn(gen.generate(STRICT, None, None, GOODBYE, history, "en"), from_self=True))
    assert len({fold(t.text) for t in history}) == 400
    again = OfflineGenerator(random.Random(3), random_attempts=0)
    assert again.generate(STRICT, None, None, GOODBYE, history[:10], "en") == history[10].text


@pytest.mark.parametrize(
    ("daypart", "locale", "word"),
    [
        ("morning", "pt-BR", "Bom dia"),
        ("afternoon", "pt-BR", "Boa tarde"),
        ("evening", "pt-BR", "Boa noite"),
        ("morning", "en", "morning"),
        ("afternoon", "en", "afternoon"),
        ("evening", "en", "evening"),
    ],
)
def test_greetings_follow_the_daypart(daypart: str, locale: str, word: str) -> None:
    gen = OfflineGenerator(random.Random(11))
    for _ in range(40):
        assert word.lower() in gen.generate(ANA, CAKE, daypart, GREETING, [], locale).lower()


def test_pt_morning_greeting_says_bom_dia_verbatim() -> None:
    gen = OfflineGenerator(random.Random(13))
    history: list[Turn] = []
    for _ in range(60):
        text = gen.generate(PLAIN, CAKE, "morning", GREETING, history, "pt-BR")
        assert "Bom dia" in text
        history.append(Turn(text, from_self=True))


def test_persona_greeting_overrides_the_stock_one() -> None:
    gen = OfflineGenerator(random.Random(5))
    for _ in range(30):
        text = gen.generate(STRICT, CAKE, "morning", GREETING, [], "pt-BR")
        assert text.startswith("Saudações matinais.") and "Bom dia" not in text


def test_greeting_back_answers_how_are_you() -> None:
    gen = OfflineGenerator(random.Random(2))
    for _ in range(20):
        reply = gen.generate(ANA, CAKE, "morning", GREETING, [Turn("Bom dia! Tudo bem? ☀️")], "pt-BR").lower()
        assert "bom dia" in reply
        assert any(back in reply for back in ("e você?", "e com você?", "e por aí?", "e contigo?", "e aí?"))


def test_goodbye_answers_a_pending_question_and_wishes_by_daypart() -> None:
    gen = OfflineGenerator(random.Random(4))
    quick = {
        "Sim, com certeza!",
        "Acho que sim!",
        "Hmm, ainda não sei.",
        "Pode ser!",
        "Boa pergunta, vou pensar!",
        "Com certeza, depois te conto!",
    }
    evening_wishes = ("Boa noite!", "Dorme bem!", "Tenha uma boa noite!", "Até amanhã!", "Descansa bem!")
    for _ in range(20):
        text = gen.generate(ANA, CAKE, "evening", GOODBYE, [Turn("Você curte receitas de bolo?")], "pt-BR")
        assert any(text.startswith(q) for q in quick)
        assert any(w in text for w in evening_wishes)


@pytest.mark.parametrize("phase", [COMMENT, QUESTION, ANSWER])
def test_topic_is_woven_in(phase: str) -> None:
    gen = OfflineGenerator(random.Random(9))
    texts = [gen.generate(ANA, CAKE, "afternoon", phase, [], "pt-BR") for _ in range(30)]
    assert sum("receitas de bolo" in t for t in texts) >= 20  # a few daypart bodies carry no topic


def test_formal_personas_skip_slang_and_emoji_follows_the_trait() -> None:
    gen = OfflineGenerator(random.Random(6))
    formal = [gen.generate(STRICT, CAKE, None, phase, [], "pt-BR") for phase in PHASES for _ in range(30)]
    assert not any(re.search(r"\b(rs|kkk|haha|Opa|Cara|Beijo)\b", t) for t in formal)
    assert not any(EMOJI.search(t) for t in formal)
    chatty = PersonaSpec("Bia", traits={"emoji_use": "high"})
    assert sum(bool(EMOJI.search(gen.generate(chatty, CAKE, "morning", GREETING, [], "pt-BR"))) for _ in range(40)) > 15


def test_same_rng_same_history_same_line() -> None:
    one = OfflineGenerator(random.Random(99)).generate(ANA, CAKE, "morning", COMMENT, [], "pt-BR")
    two = OfflineGenerator(random.Random(99)).generate(ANA, CAKE, "morning", COMMENT, [], "pt-BR")
    assert one == two


def test_rejects_unknown_phases() -> None:
    with pytest.raises(ValueError):
        OfflineGenerator(random.Random(0)).generate(ANA, CAKE, "morning", "opener", [], "pt-BR")


@settings(max_examples=60)
@given(st.text(max_size=60), st.sampled_from(PHASES), st.sampled_from(DAYPARTS), st.sampled_from(["pt-BR", "en"]))
def test_any_topic_seed_gives_a_line(seed: str, phase: str, daypart: str | None, locale: str) -> None:
    text = OfflineGenerator(random.Random(0)).generate(ANA, TopicSpec(seed), daypart, phase, [], locale)
    assert text.strip() and "{seed}" not in text


def test_seed_links_are_stripped() -> None:
    topic = TopicSpec("promoções em https://loja.example.com/oferta")
    for _ in range(20):
        assert "http" not in OfflineGenerator(random.Random(_)).generate(ANA, topic, None, COMMENT, [], "pt-BR")


@pytest.mark.parametrize("book", [phrasebook.PORTUGUESE, phrasebook.ENGLISH], ids=["pt-BR", "en"])
def test_phrase_files_use_only_known_placeholders(book: phrasebook.Phrasebook) -> None:
    fragments = []
    for field in dataclasses.fields(book):
        value = getattr(book, field.name)
        for slot in value.values() if isinstance(value, dict) else [value]:
            fragments.extend([slot] if isinstance(slot, str) else slot)
    assert fragments and all(isinstance(f, str) for f in fragments)
    assert {name for f in fragments for name in re.findall(r"\{(\w+)\}", f)} <= {"seed", "name", "me", "greet"}
    assert not [f for f in fragments if f != f.strip() or f.startswith("~ ")]


def test_a_phrase_file_missing_a_daypart_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    english = phrasebook._read("en.json")
    del english["wish"]["evening"]
    monkeypatch.setattr(phrasebook, "_read", lambda name: english)
    with pytest.raises(ValueError, match="wish"):
        phrasebook.load_phrasebook("en.json")


class TestOutreach:
    def test_opener_has_name_persona_and_a_way_out(self) -> None:
        gen = OfflineGenerator(random.Random(8))
        for _ in range(20):
            text = gen.generate_outreach(ANA, "Carlos Alberto", "opener", [], "pt-BR", daypart="morning")
            assert "Carlos" in text and "Alberto" not in text and "Ana" in text
            assert text.endswith("SAIR.") and with_optout_hint(text) == text
            assert not is_optout(text)
        english = gen.generate_outreach(ANA, None, "opener", [], "en")
        assert "STOP" in english and with_optout_hint(english, "en") == english

    def test_openers_and_follow_ups_never_repeat(self) -> None:
        gen = OfflineGenerator(random.Random(12))
        history: list[Turn] = []
        for phase in ("opener", "follow_up", "closing") * 40:
            history.append(Turn(gen.generate_outreach(PLAIN, "Lia", phase, history, "pt-BR"), from_self=True))
        assert len({fold(t.text) for t in history}) == len(history)

    def test_nothing_after_an_optout(self) -> None:
        gen = OfflineGenerator(random.Random(0))
        history = [Turn("Oi Lia! ... é só responder SAIR.", from_self=True), Turn("sair")]
        with pytest.raises(ContactOptedOut):
            gen.generate_outreach(PLAIN, "Lia", "follow_up", history, "pt-BR")
        with pytest.raises(ContactOptedOut):
            gen.generate_outreach(PLAIN, "Lia", "closing", [Turn("chega")], "pt-BR", optout_keywords=["CHEGA"])

    def test_closing_without_a_name(self) -> None:
        text = OfflineGenerator(random.Random(0)).generate_outreach(PLAIN, "", "closing", [], "en", "evening")
        assert "{" not in text and text.strip()
        with pytest.raises(ValueError):
            OfflineGenerator(random.Random(0)).generate_outreach(PLAIN, "", GREETING, [], "en")
