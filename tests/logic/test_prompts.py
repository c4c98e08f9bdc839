from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirage_app.logic.locales import language_name
from mirage_app.logic.prompts import (
    GOODBYE,
    GREETING,
    HISTORY_LIMIT,
    OUTREACH_PHASES,
    PHASES,
    SPEAKER_A,
    SPEAKER_B,
    ContactOptedOut,
    PersonaSpec,
    TopicSpec,
    Turn,
    build_conversation_messages,
    build_outreach_messages,
    first_name,
    round_phases,
    sanitize_reply,
)

ANA = PersonaSpec(
    name="Ana",
    style="alegre, fala de culinária",
    greeting_morning="Bom diaaa, flor!",
    traits={"age": 32, "occupation": "confeiteira", "emoji_use": "high", "typical_length": "short"},
)
CAKE = TopicSpec(seed="receitas de bolo", system_prompt="Falem de receitas fáceis.")


def system_text(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages if m["role"] == "system")


class TestConversationPrompt:
    def test_structure_and_content(self) -> None:
        history = [
            Turn("Oi Ana!"),
            Turn("Oi! Tudo bem?", from_self=True),
            {"body": "Tudo!", "direction": "in"},
        ]
        messages = build_conversation_messages(ANA, CAKE, "morning", "question", history, "pt-BR")
        assert messages[0]["role"] == "system" and messages[-1]["role"] == "system"
        assert [m["role"] for m in messages[1:-1]] == ["user", "assistant", "user"]
        assert [m["content"] for m in messages[1:-1]] == ["Oi Ana!", "Oi! Tudo bem?", "Tudo!"]
        first = messages[0]["content"]
        for expected in (
            "Ana",
            "alegre",
            "confeiteira",
            "Age: 32",
            "morning",
            "receitas de bolo",
            "Falem de receitas fáceis.",
            "Bom diaaa, flor!",
            "1 or 2 short sentences",
            "No links",
            "Never repeat",
            "Brazilian Portuguese",
        ):
            assert expected in first
        assert "question" in messages[-1]["content"] and "light" in messages[-1]["content"]

    def test_every_phase_has_an_instruction(self) -> None:
        instructions = {build_conversation_messages(ANA, None, None, p, [], "en")[-1]["content"] for p in PHASES}
        assert len(instructions) == len(PHASES)
        assert "Write in English" in system_text(build_conversation_messages(ANA, None, None, GREETING, [], "en"))

    def test_daypart_greeting_only_for_its_daypart(self) -> None:
        evening = system_text(build_conversation_messages(ANA, CAKE, "evening", GREETING, [], "pt-BR"))
        assert "Bom diaaa" not in evening and "evening" in evening

    def test_history_is_trimmed(self) -> None:
        history = [Turn(f"linha {i}", i % 2 == 0) for i in range(40)]
        messages = build_conversation_messages(ANA, CAKE, "afternoon", "answer", history, "pt-BR")
        assert len(messages) == HISTORY_LIMIT + 2
        assert messages[-2]["content"] == "linha 39"

    def test_accepts_dicts_and_rejects_unknown_phases(self) -> None:
        persona = {"name": "Rui", "style": "sério", "traits": None}
        messages = build_conversation_messages(persona, {"seed": "futebol"}, "afternoon", GOODBYE, None, "pt-BR")
        assert "Rui" in messages[0]["content"] and "futebol" in messages[0]["content"]
        with pytest.raises(ValueError, match="phase"):
            build_conversation_messages(ANA, CAKE, "morning", "rant", [], "pt-BR")

    def test_never_asks_to_deny_being_automated_to_outsiders(self) -> None:
        assert "bring up AI" in system_text(build_conversation_messages(ANA, CAKE, None, GREETING, [], "pt-BR"))


class TestOutreachPrompt:
    def test_opener_carries_the_optout_hint_and_first_name(self) -> None:
        messages = build_outreach_messages(ANA, "Carlos Alberto Souza", "opener", [], "pt-BR", business_name="Doce Lar")
        text = system_text(messages)
        assert "responder SAIR" in text
        assert "Carlos" in text and "Alberto" not in text
        assert "on behalf of Doce Lar" in text
        assert "answer honestly" in text  # no pretending to be human towards real people
        english = system_text(build_outreach_messages(ANA, "Carlos", "opener", [], "en"))
        assert "reply STOP" in english and "Write in English" in english

    def test_other_phases(self) -> None:
        for phase in OUTREACH_PHASES[1:]:
            text = system_text(build_outreach_messages(ANA, None, phase, [Turn("Oi!")], "pt-BR"))
            assert "the contact" in text and "responder SAIR" not in text
        with pytest.raises(ValueError, match="phase"):
            build_outreach_messages(ANA, "Carlos", "greeting", [], "pt-BR")

    def test_refuses_after_an_optout(self) -> None:
        history = [Turn("Oi Carlos! ... é só responder SAIR.", from_self=True), Turn("Pare!")]
        with pytest.raises(ContactOptedOut):
            build_outreach_messages(ANA, "Carlos", "follow_up", history, "pt-BR")
        custom = [Turn("2")]
        with pytest.raises(ContactOptedOut):
            build_outreach_messages(ANA, "Carlos", "closing", custom, "pt-BR", optout_keywords=["2"])
        # our own opener mentioning SAIR is not an opt-out
        build_outreach_messages(ANA, "Carlos", "follow_up", history[:1], "pt-BR")


@pytest.mark.parametrize("n", [2, 3, 4])
def test_round_phases(n: int) -> None:
    turns = round_phases(n)
    assert len(turns) == 2 * n
    assert [t.speaker for t in turns] == [SPEAKER_A, SPEAKER_B] * n
    assert turns[0].phase == GREETING and turns[-1].phase == GOODBYE
    order = [PHASES.index(t.phase) for t in turns]
    assert order == sorted(order)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_round_phases_rejects_other_lengths(n: int) -> None:
    with pytest.raises(ValueError):
        round_phases(n)


def test_persona_spec_from_rows_and_traits() -> None:
    row = SimpleNamespace(
        name="Bia",
        style="",
        greeting_morning="Bom dia!",
        greeting_afternoon=None,
        greeting_evening="",
        traits={"emoji_use": "none", "writing_style": "Formal"},
    )
    persona = PersonaSpec.coerce(row)
    assert persona.greeting_for("morning") == "Bom dia!" and persona.greeting_for("afternoon") == ""
    assert persona.greeting_for(None) == ""
    assert persona.emoji_rate == 0 and persona.formal
    assert PersonaSpec("x", traits={"emoji_use": True}).emoji_rate > 0
    assert PersonaSpec("x", traits={"emoji_use": 3}).emoji_rate == 1
    assert PersonaSpec("x", traits={"writing_style": "informal"}).formal is False
    assert PersonaSpec("x", traits={"typical_length": "huge"}).typical_length == "medium"


def test_turn_coercion() -> None:
    assert Turn.coerce("oi") == Turn("oi", False)
    assert Turn.coerce({"text": "a", "from_self": True}) == Turn("a", True)
    assert Turn.coerce({"body": "b", "direction": "out"}) == Turn("b", True)
    assert Turn.coerce({"content": "c", "role": "assistant"}) == Turn("c", True)
    assert Turn.coerce(SimpleNamespace(body="d", direction="in")) == Turn("d", False)


def test_sanitize_reply() -> None:
    raw = 'Ana: "Olha isso https://x.com/a e www.foo.org, manda pra ana@gmail.com ou site.com.br\u200b"'
    assert sanitize_reply(raw, "Ana") == "Olha isso e manda pra ou"
    assert sanitize_reply("“Bom dia!”") == "Bom dia!"
    assert sanitize_reply("  Tudo   bem?  ") == "Tudo bem?"


@given(st.text(max_size=200))
def test_sanitized_text_has_no_links_or_invisible_characters(text: str) -> None:
    cleaned = sanitize_reply(text)
    assert "http://" not in cleaned.lower() and "https://" not in cleaned.lower()
    assert not any(ch in cleaned for ch in "\u200b\u200c\u2060\ufeff")


def test_sanitize_keeps_emoji_sequences() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert sanitize_reply(f"Olha a família {family}") == f"Olha a família {family}"
    assert sanitize_reply("vejaxhttp://spam.example/x agora") == "agora"


def test_language_names_and_first_name() -> None:
    assert language_name("pt-BR") == "Brazilian Portuguese (pt-BR)"
    assert language_name(None) == "Brazilian Portuguese (pt-BR)"
    assert language_name("pt-PT") == "Portuguese (pt-PT)"
    assert language_name("en-GB") == "English"
    assert "es-MX" in language_name("es-MX")
    assert first_name("  Maria  da Silva ") == "Maria" and first_name(None) == ""
