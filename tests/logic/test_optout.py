from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_app.logic.optout import (
    DEFAULT_OPTOUT_KEYWORDS,
    confirmation_text,
    fold,
    is_optout,
    matched_keyword,
    optout_hint,
    with_optout_hint,
)


@pytest.mark.parametrize(
    "text",
    [
        "Pare!",
        "pare por favor",
        "PARAR.",
        " stop ",
        "Sair",
        "SÁIR!!",
        "cancelar 🙏",
        "Descadastrar, obrigado",
        "STOP.",
        "*parar*",
        "stop\n",
        "Pare de me mandar mensagem",
    ],
)
def test_opt_outs(text: str) -> None:
    assert is_optout(text)


@pytest.mark.parametrize(
    "text",
    [
        "não pare de mandar",
        "parede",
        "stopped",
        "Vou sair mais tarde",
        "pode parar aqui?",
        "",
        "   ",
        "😀👍",
        "sairei",
        "nao quero sair",
    ],
)
def test_not_opt_outs(text: str) -> None:
    assert not is_optout(text)


def test_fold() -> None:
    assert fold("  Olá,   Mundo!! 😀 ") == "ola mundo"
    assert fold("DESCADASTRAR…") == "descadastrar"
    assert fold("ﬁm") == "fim"  # compatibility ligature
    assert fold("São João-da-Barra") == "sao joao da barra"
    assert fold("𝐒𝐓𝐎𝐏") == "stop" and is_optout("𝐒𝐓𝐎𝐏!")


@settings(max_examples=500)
@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.sampled_from(DEFAULT_OPTOUT_KEYWORDS), st.text(max_size=40), st.sampled_from(["", "!", ".", " ", "?!"]))
def test_keyword_first_always_opts_out(keyword: str, rest: str, punct: str) -> None:
    assert is_optout(f"{keyword.lower()}{punct} {rest}")


@given(st.text(alphabet=st.characters(categories=["Ll"]), min_size=1, max_size=8))
def test_keyword_inside_a_longer_first_word_does_not(suffix: str) -> None:
    folded_suffix = fold(suffix)
    if folded_suffix and f"pare{folded_suffix}" not in {fold(k) for k in DEFAULT_OPTOUT_KEYWORDS}:
        assert not is_optout(f"pare{suffix} hoje")


def test_custom_keywords() -> None:
    keywords = ["NÃO QUERO", "2"]
    assert matched_keyword("Nao quero mais, obrigado", keywords) == "NÃO QUERO"
    assert is_optout("2", keywords)
    assert not is_optout("22", keywords)
    assert not is_optout("stop", keywords)  # custom lists replace the defaults
    assert matched_keyword("PARE!") == "PARE"
    assert matched_keyword("oi") is None


def test_texts() -> None:
    assert confirmation_text("pt-BR") == "Você não receberá mais mensagens nossas. Obrigado!"
    assert confirmation_text(None).startswith("Você")
    assert confirmation_text("en-US") == "You won't receive any more messages from us. Thank you!"
    assert "SAIR" in optout_hint("pt-BR") and "STOP" in optout_hint("en")


def test_with_optout_hint() -> None:
    assert with_optout_hint("Oi Ana! Tudo bem?") == f"Oi Ana! Tudo bem? {optout_hint('pt-BR')}"
    kept = "Oi Ana! Se não quiser mais, responda SAIR."
    assert with_optout_hint(kept) == kept
    assert with_optout_hint("Hi! Reply STOP to opt out.", "en") == "Hi! Reply STOP to opt out."
    assert with_optout_hint("Vou sair agora") != "Vou sair agora"  # merely containing the word is not a hint


@given(st.text(max_size=80), st.sampled_from(["pt-BR", "en"]))
def test_with_optout_hint_is_idempotent(text: str, locale: str) -> None:
    once = with_optout_hint(text, locale)
    assert with_optout_hint(once, locale) == once
