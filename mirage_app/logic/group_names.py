"""Names and descriptions for warming groups, like the small groups people really have (family, friends, a
neighbourhood, a hobby). Chosen from a seed, so a conversation keeps the name it was offered."""

from __future__ import annotations

import random

_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "pt-BR": (
        ("Café da manhã ☕", "Pra combinar o café de sábado"),
        ("Futebol de quinta ⚽", "Quadra às 20h, confirmem presença"),
        ("Família 💛", "Grupo da família"),
        ("Vizinhos do bloco B", "Avisos e conversas do prédio"),
        ("Trilha e bike 🚴", "Passeios de fim de semana"),
        ("Receitas da vó", "Troca de receitas e dicas de cozinha"),
        ("Turma da faculdade", "Saudades da turma"),
        ("Churrasco do mês 🔥", "Organização do churrasco"),
    ),
    "en": (
        ("Saturday coffee ☕", "Planning our weekend coffee"),
        ("Thursday football ⚽", "Pitch at 8pm, say if you're in"),
        ("Family 💛", "The family group"),
        ("Building neighbours", "Notices and chat for the building"),
        ("Hikes & bikes 🚴", "Weekend rides and walks"),
        ("Grandma's recipes", "Swapping recipes and kitchen tips"),
        ("College crew", "Missing the old days"),
        ("Monthly barbecue 🔥", "Sorting out the next barbecue"),
    ),
}


def suggest(locale: str | None, seed: object) -> tuple[str, str]:
    """(subject, description) for a new warming group."""
    options = _GROUPS.get(locale or "pt-BR") or _GROUPS["pt-BR"]
    return options[random.Random(str(seed)).randrange(len(options))]
