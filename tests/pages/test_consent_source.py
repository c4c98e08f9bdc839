"""A consent source that a suppression wrote reads as words on the contacts page; a person's own words stay."""

from __future__ import annotations

from mirage_app.i18n import catalog
from mirage_app.logic.optout import OPERATOR_SOURCE, optout_source, suppression_source
from mirage_app.pages.contacts import source_text

PT, EN = catalog("pt-BR"), catalog("en")


def test_a_source_a_suppression_wrote_reads_as_words():
    assert source_text(PT, optout_source("SAIR")) == "descadastro por mensagem (“SAIR”)"
    assert source_text(EN, optout_source("STOP")) == "opted out by message (“STOP”)"
    assert source_text(EN, OPERATOR_SOURCE) == "suppressed by an operator"


def test_a_persons_own_words_stay_as_typed():
    assert source_text(PT, "feira de março") == "feira de março"
    assert suppression_source("optout") is None and suppression_source("") is None
