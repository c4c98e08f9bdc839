"""Offline reply generator: natural pt-BR / English WhatsApp lines without an LLM (SPEC §2, §8).

Each phase is composed from several fragment pools ("slots"), so one daypart and phase already has hundreds
of combinations. A line is never repeated within a conversation: candidates are compared with everything in
the history after `optout.fold` (case, accents, punctuation and emoji ignored). Random draws come first; if
they keep colliding the generator walks the combinations in a fixed order, then adds filler tails, then pairs
sentences, so it stays deterministic for a given rng and history.

Persona-aware: the persona's own greeting for the daypart replaces the stock salutation, `emoji_use` sets how
often an emoji is added, `typical_length` how often optional fragments are used, and a formal
`writing_style` drops slang (fragments marked with a leading "~"). Topic-aware through `{seed}`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from mirage_app.logic.dayparts import AFTERNOON, EVENING, MORNING
from mirage_app.logic.locales import is_english
from mirage_app.logic.optout import DEFAULT_OPTOUT_KEYWORDS, fold, is_optout
from mirage_app.logic.prompts import (
    ANSWER,
    COMMENT,
    FOLLOW_UP,
    GOODBYE,
    GREETING,
    OPENER,
    OUTREACH_PHASES,
    PHASES,
    QUESTION,
    ContactOptedOut,
    PersonaSpec,
    TopicSpec,
    Turn,
    as_turns,
    first_name,
    sanitize_reply,
)

Slot = tuple[str, ...]  # alternatives; "" makes the slot optional, a leading "~" marks slang
NO_DAYPART = "none"
_EXTRA_BY_LENGTH = {"short": 0.3, "medium": 0.55, "long": 0.85}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SENTENCE_START = re.compile(r"(^|[.!?…]\s+)(\w+)")
_LOWERCASE_INTERJECTIONS = frozenset({"rs", "haha", "kkk", "lol"})
_ASKS = re.compile(r"\?[^\w?]*$")  # ends with a question mark, maybe followed by an emoji

# --- pt-BR pools -----------------------------------------------------------------------------------------

_PT_SALUTE = {
    MORNING: (
        "Bom dia!",
        "Bom diaa!",
        "Oi! Bom dia!",
        "Olá! Bom dia!",
        "~Opa! Bom dia!",
        "Bom dia pra você!",
    ),
    AFTERNOON: ("Boa tarde!", "Boa tardee!", "Oi! Boa tarde!", "Olá! Boa tarde!", "~Opa! Boa tarde!"),
    EVENING: ("Boa noite!", "Boa noitee!", "Oi! Boa noite!", "Olá! Boa noite!", "~Opa! Boa noite!"),
    NO_DAYPART: ("Oi!", "Oii!", "Olá!", "~Opa!", "~E aí!"),
}
_PT_GREET_WORD = {MORNING: "Bom dia", AFTERNOON: "Boa tarde", EVENING: "Boa noite", NO_DAYPART: ""}
_PT_HOOK: Slot = (
    "",
    "Lembrei de você agora.",
    "Passando pra dar um oi.",
    "Faz tempo que a gente não se fala.",
    "Tava com saudade de conversar.",
    "Queria te contar uma coisa sobre {seed}.",
    "Tava pensando em {seed} agora há pouco.",
    "Hoje lembrei da nossa conversa sobre {seed}.",
)
_PT_HOW: Slot = (
    "Tudo bem?",
    "Tudo bem com você?",
    "Tudo certo por aí?",
    "Como você está?",
    "Como vão as coisas?",
    "~Como cê tá?",
    "Tudo tranquilo?",
    "Como anda tudo por aí?",
    "Quais as novidades?",
)
_PT_HOW_DAYPART = {
    MORNING: ("Dormiu bem?", "Já tomou café?", "Acordou cedo hoje?"),
    AFTERNOON: ("Como tá sendo a tarde?", "Já almoçou?", "A tarde tá corrida aí?"),
    EVENING: ("Como foi o dia?", "Já tá descansando?", "O dia foi puxado?"),
    NO_DAYPART: ("Como vai?",),
}
_PT_HOW_REPLY: Slot = (
    "Tudo ótimo por aqui, e com você?",
    "Tudo certo, graças a Deus! E você?",
    "Tudo bem sim, e por aí?",
    "Tô bem, e você?",
    "Por aqui tudo tranquilo, e contigo?",
    "Tudo na paz, e você?",
    "~Tudo joia, e aí?",
    "Bem demais, e você?",
)
_PT_REPLY_EXTRA = {
    MORNING: ("", "Acordei com energia hoje!", "Já tô no segundo café por aqui.", "Que bom falar com você!"),
    AFTERNOON: ("", "A tarde tá tranquila por aqui.", "Acabei de almoçar.", "Que bom falar com você!"),
    EVENING: ("", "Finalmente descansando.", "O dia foi longo, mas foi bom.", "Que bom falar com você!"),
    NO_DAYPART: ("", "Que bom falar com você!", "Que bom que você mandou mensagem!"),
}
_PT_COMMENT_LEAD: Slot = (
    "",
    "Então,",
    "Olha,",
    "Sabe que",
    "~Cara,",
    "Nossa,",
    "Ah,",
    "Aliás,",
    "Falando nisso,",
)
_PT_COMMENT_SEED: Slot = (
    "tô curtindo muito {seed} ultimamente.",
    "vi umas coisas sobre {seed} hoje e lembrei de você.",
    "falaram de {seed} lá no trabalho hoje.",
    "li uma matéria sobre {seed} e achei bem interessante.",
    "tenho pensado bastante em {seed}.",
    "esses dias fiquei um tempão pesquisando sobre {seed}.",
    "me mandaram umas dicas de {seed}, achei ótimo.",
    "não paro de pensar em {seed} essa semana.",
    "descobri umas novidades sobre {seed} hoje.",
)
_PT_COMMENT_PLAIN: Slot = (
    "hoje o dia tá bem corrido por aqui.",
    "finalmente consegui organizar minhas coisas.",
    "o tempo tá uma delícia hoje.",
    "comecei uma série nova e tô gostando.",
    "resolvi cozinhar algo diferente hoje.",
    "tô tentando caminhar um pouco mais essa semana.",
    "arrumei a casa toda hoje.",
    "ando ouvindo umas músicas novas muito boas.",
)
_PT_COMMENT_DAYPART = {
    MORNING: ("o café de hoje tá salvando minha manhã.", "acordei cedo e já resolvi um monte de coisa."),
    AFTERNOON: ("a tarde tá passando voando.", "o almoço hoje tava ótimo."),
    EVENING: ("agora à noite tá bem tranquilo por aqui.", "acabei de jantar e tô relaxando."),
    NO_DAYPART: (),
}
_PT_COMMENT_TAIL: Slot = (
    "",
    "Achei bem legal.",
    "Recomendo demais.",
    "Depois te conto mais.",
    "~rs",
    "~haha",
    "Muito bom mesmo.",
    "Tô gostando bastante.",
)
_PT_QUESTION_LEAD: Slot = ("", "E aí,", "Me conta uma coisa:", "Pergunta rápida:", "Curiosidade:", "Me diz,")
_PT_QUESTION_SEED: Slot = (
    "o que você acha de {seed}?",
    "você curte {seed}?",
    "tem alguma dica sobre {seed} pra me passar?",
    "qual sua opinião sobre {seed}?",
    "você já tinha ouvido falar de {seed}?",
    "como você começou a se interessar por {seed}?",
    "tem alguma novidade sobre {seed} por aí?",
    "você acompanha {seed}?",
)
_PT_QUESTION_PLAIN: Slot = (
    "quais são os planos pro fim de semana?",
    "como tá o trabalho?",
    "viu alguma série boa ultimamente?",
    "tem alguma viagem em vista?",
    "o que você tem feito pra relaxar?",
    "leu algum livro bom ultimamente?",
)
_PT_QUESTION_DAYPART = {
    MORNING: ("o que vai fazer hoje?", "qual o plano pro dia?"),
    AFTERNOON: ("o que vai fazer mais tarde?", "como tá a tarde aí?"),
    EVENING: ("vai fazer algo hoje à noite?", "o que vai jantar hoje?"),
    NO_DAYPART: (),
}
_PT_QUESTION_TAIL: Slot = ("", "Fiquei pensando nisso.", "Queria sua opinião.", "~Conta aí!", "Me conta!")
_PT_ANSWER_LEAD: Slot = (
    "Boa pergunta!",
    "Ah,",
    "Olha,",
    "Então,",
    "Hmm,",
    "Legal você perguntar!",
    "Sinceramente,",
    "Deixa eu pensar...",
)
_PT_ANSWER_SEED: Slot = (
    "eu gosto bastante de {seed}, viu.",
    "ainda tô aprendendo sobre {seed}, mas tô curtindo.",
    "esse tema de {seed} sempre me chamou atenção.",
    "acho muito interessante esse assunto de {seed}.",
    "já li um pouco sobre {seed} e gostei.",
    "esse papo de {seed} já faz parte da minha rotina.",
)
_PT_ANSWER_PLAIN: Slot = (
    "por aqui tá tudo tranquilo.",
    "tenho tentado descansar mais.",
    "esses dias foram corridos, mas tudo certo.",
    "acho que vale muito a pena.",
    "ainda não decidi, mas tô pensando nisso.",
    "tô pensando em fazer algo tranquilo.",
)
_PT_ANSWER_DAYPART = {
    MORNING: ("hoje de manhã já fiz bastante coisa.",),
    AFTERNOON: ("essa tarde vou resolver umas coisas pendentes.",),
    EVENING: ("hoje à noite vou só descansar mesmo.",),
    NO_DAYPART: (),
}
_PT_ANSWER_TAIL: Slot = (
    "",
    "E você?",
    "E por aí?",
    "Depois te conto.",
    "Vamos ver, né.",
    "~kkk",
    "E contigo, como tá?",
)
_PT_QUICK_ANSWER: Slot = (
    "Sim, com certeza!",
    "Acho que sim!",
    "Hmm, ainda não sei.",
    "Pode ser!",
    "Boa pergunta, vou pensar!",
    "Com certeza, depois te conto!",
)
_PT_CLOSE: Slot = (
    "Bom, vou indo nessa.",
    "Preciso ir agora.",
    "Bom, deixa eu voltar aqui pras minhas coisas.",
    "Tenho que resolver umas coisas agora.",
    "Adorei conversar!",
    "Foi muito bom falar com você!",
    "Vou ter que sair agora.",
    "Bom, o papo tá bom, mas preciso ir.",
)
_PT_WISH = {
    MORNING: ("Tenha um ótimo dia!", "Um bom dia pra você!", "Aproveita a manhã!", "Bom dia e bom trabalho!"),
    AFTERNOON: (
        "Tenha uma ótima tarde!",
        "Boa tarde pra você!",
        "Aproveita o resto da tarde!",
        "Bom resto de tarde!",
    ),
    EVENING: ("Boa noite!", "Dorme bem!", "Tenha uma boa noite!", "Até amanhã!", "Descansa bem!"),
    NO_DAYPART: ("Até mais!", "Até logo!", "Até a próxima!", "Falamos depois!"),
}
_PT_END: Slot = ("", "Abraço!", "Um abraço!", "Se cuida!", "~Beijo!", "Fica bem!")
# Fallback tails (only once the normal combinations are used up): must read well after any sentence.
_PT_FILLER: Slot = (
    "",
    "Espero que esteja tudo bem.",
    "Fico na torcida por você.",
    "Tô por aqui, viu.",
    "Saudade das nossas conversas.",
    "Bom demais poder conversar.",
    "Sigo firme por aqui.",
    "Tudo de bom pra você.",
    "Conta comigo.",
)

_PT_OUT_SALUTE_NAMED: Slot = ("Oi, {name}!", "Olá, {name}!", "{greet}, {name}!", "{greet}, {name}! Tudo bem?")
_PT_OUT_SALUTE_ANON: Slot = ("Oi!", "Olá!", "{greet}!", "{greet}! Tudo bem?")
_PT_OUT_INTRO: Slot = ("Aqui é {me}.", "Quem fala é {me}.", "Meu nome é {me}.", "Aqui quem escreve é {me}.")
_PT_OUT_QUESTION: Slot = (
    "Como está sua semana?",
    "Como vão as coisas por aí?",
    "Tudo certo por aí?",
    "Como você está hoje?",
    "Como tem sido seu dia?",
)
_PT_OUT_HINT: Slot = (
    "Se não quiser mais receber mensagens, é só responder SAIR.",
    "Se preferir não receber mais mensagens, responda SAIR.",
    "Caso não queira mais receber nossas mensagens, é só responder SAIR.",
)
_PT_OUT_REACT: Slot = (
    "Que bom saber!",
    "Entendi!",
    "Obrigado por responder!",
    "Legal!",
    "Que ótimo!",
    "Faz sentido!",
)
_PT_OUT_BODY: Slot = (
    "Fico feliz em ouvir isso.",
    "Obrigado por compartilhar.",
    "Se precisar de algo, é só me chamar.",
    "Qualquer dúvida, estou por aqui.",
)
_PT_OUT_ASK: Slot = (
    "",
    "E como tem sido seu dia?",
    "Posso ajudar em algo?",
    "Tem algo em que eu possa ajudar?",
)
_PT_OUT_THANKS_NAMED: Slot = (
    "Obrigado pela atenção, {name}!",
    "Muito obrigado pela conversa, {name}!",
    "Foi ótimo falar com você, {name}!",
)
_PT_OUT_THANKS_ANON: Slot = (
    "Obrigado pela atenção!",
    "Foi ótimo falar com você!",
    "Agradeço muito a conversa!",
)
_PT_OUT_AVAILABLE: Slot = (
    "Qualquer coisa, estou por aqui.",
    "Se precisar, é só chamar.",
    "Fico à disposição.",
)

# --- English pools ---------------------------------------------------------------------------------------

_EN_SALUTE = {
    MORNING: ("Good morning!", "Morning!", "Hi, good morning!", "Hey, good morning!", "Good morning to you!"),
    AFTERNOON: ("Good afternoon!", "Hi, good afternoon!", "Hey, good afternoon!", "Afternoon!"),
    EVENING: ("Good evening!", "Hi, good evening!", "Hey, good evening!", "Evening!"),
    NO_DAYPART: ("Hi!", "Hello!", "~Hey!", "~Hey there!", "Hi there!"),
}
_EN_GREET_WORD = {
    MORNING: "Good morning",
    AFTERNOON: "Good afternoon",
    EVENING: "Good evening",
    NO_DAYPART: "",
}
_EN_HOOK: Slot = (
    "",
    "Just thought of you.",
    "Just dropping by to say hi.",
    "It's been a while since we talked.",
    "I missed our chats.",
    "I wanted to tell you something about {seed}.",
    "I was just thinking about {seed}.",
    "I remembered our chat about {seed} today.",
)
_EN_HOW: Slot = (
    "How are you?",
    "How are you doing?",
    "How's everything?",
    "How have you been?",
    "~What's up?",
    "All good with you?",
    "How are things going?",
    "Any news?",
)
_EN_HOW_DAYPART = {
    MORNING: ("Did you sleep well?", "Had your coffee yet?", "Up early today?"),
    AFTERNOON: ("How's your afternoon going?", "Had lunch yet?", "Busy afternoon?"),
    EVENING: ("How was your day?", "Relaxing already?", "Long day?"),
    NO_DAYPART: ("How's it going?",),
}
_EN_HOW_REPLY: Slot = (
    "All good here, and you?",
    "Doing great, thanks! And you?",
    "I'm fine, how about you?",
    "Pretty good, and yourself?",
    "All calm over here, and you?",
    "~Can't complain, you?",
    "Really well, thanks for asking! You?",
)
_EN_REPLY_EXTRA = {
    MORNING: ("", "Woke up full of energy today!", "Already on my second coffee.", "Nice to hear from you!"),
    AFTERNOON: ("", "Quiet afternoon over here.", "Just finished lunch.", "Nice to hear from you!"),
    EVENING: ("", "Finally resting.", "Long day, but a good one.", "Nice to hear from you!"),
    NO_DAYPART: ("", "Nice to hear from you!", "So glad you texted!"),
}
_EN_COMMENT_LEAD: Slot = (
    "",
    "So,",
    "You know,",
    "Honestly,",
    "~Dude,",
    "Wow,",
    "Oh,",
    "By the way,",
    "Funny thing,",
)
_EN_COMMENT_SEED: Slot = (
    "I've been really into {seed} lately.",
    "I saw some stuff about {seed} today and thought of you.",
    "people at work were talking about {seed} today.",
    "I read an article about {seed} and found it really interesting.",
    "I've been thinking a lot about {seed}.",
    "I spent ages reading about {seed} the other day.",
    "someone sent me some tips about {seed}, loved it.",
    "I can't stop thinking about {seed} this week.",
    "I found out something new about {seed} today.",
)
_EN_COMMENT_PLAIN: Slot = (
    "today has been pretty busy over here.",
    "I finally got my things organised.",
    "the weather is lovely today.",
    "I started a new series and I'm enjoying it.",
    "I decided to cook something different today.",
    "I'm trying to walk a bit more this week.",
    "I cleaned the whole house today.",
    "I've been listening to some great new music.",
)
_EN_COMMENT_DAYPART = {
    MORNING: ("this morning's coffee is saving my day.", "I woke up early and already got lots done."),
    AFTERNOON: ("this afternoon is flying by.", "lunch today was great."),
    EVENING: ("it's really quiet over here tonight.", "I just had dinner and I'm relaxing."),
    NO_DAYPART: (),
}
_EN_COMMENT_TAIL: Slot = (
    "",
    "Pretty cool.",
    "Highly recommend it.",
    "I'll tell you more later.",
    "~lol",
    "~haha",
    "Really good stuff.",
    "Enjoying it a lot.",
)
_EN_QUESTION_LEAD: Slot = ("", "So,", "Tell me something:", "Quick question:", "Just curious:", "Hey,")
_EN_QUESTION_SEED: Slot = (
    "what do you think about {seed}?",
    "are you into {seed}?",
    "any tips about {seed} for me?",
    "what's your take on {seed}?",
    "had you heard about {seed} before?",
    "how did you get interested in {seed}?",
    "any news about {seed} on your side?",
    "do you follow {seed}?",
)
_EN_QUESTION_PLAIN: Slot = (
    "any plans for the weekend?",
    "how's work going?",
    "seen any good series lately?",
    "any trips coming up?",
    "what have you been doing to relax?",
    "read any good books lately?",
)
_EN_QUESTION_DAYPART = {
    MORNING: ("what are you up to today?", "what's the plan for today?"),
    AFTERNOON: ("what are you doing later?", "how's the afternoon over there?"),
    EVENING: ("doing anything tonight?", "what's for dinner tonight?"),
    NO_DAYPART: (),
}
_EN_QUESTION_TAIL: Slot = ("", "Been wondering about it.", "Curious what you think.", "~Spill!", "Tell me!")
_EN_ANSWER_LEAD: Slot = (
    "Good question!",
    "Oh,",
    "Well,",
    "So,",
    "Hmm,",
    "Glad you asked!",
    "Honestly,",
    "Let me think...",
)
_EN_ANSWER_SEED: Slot = (
    "I really like {seed}, you know.",
    "I'm still learning about {seed}, but I'm enjoying it.",
    "the whole {seed} thing has always caught my attention.",
    "I find {seed} super interesting.",
    "I've read a bit about {seed} and liked it.",
    "{seed} is kind of part of my routine now.",
)
_EN_ANSWER_PLAIN: Slot = (
    "all calm over here.",
    "I've been trying to rest more.",
    "the last few days were hectic, but all good.",
    "I think it's really worth it.",
    "I haven't decided yet, but I'm thinking about it.",
    "I'm planning something low-key.",
)
_EN_ANSWER_DAYPART = {
    MORNING: ("I've already done quite a lot this morning.",),
    AFTERNOON: ("this afternoon I'm sorting out some pending stuff.",),
    EVENING: ("tonight I'm just going to rest.",),
    NO_DAYPART: (),
}
_EN_ANSWER_TAIL: Slot = (
    "",
    "What about you?",
    "And you?",
    "I'll tell you later.",
    "We'll see.",
    "~lol",
    "How about you?",
)
_EN_QUICK_ANSWER: Slot = (
    "Yes, definitely!",
    "I think so!",
    "Hmm, not sure yet.",
    "Maybe!",
    "Good question, I'll think about it!",
    "For sure, I'll tell you later!",
)
_EN_CLOSE: Slot = (
    "Well, I'd better get going.",
    "I have to go now.",
    "Let me get back to my stuff.",
    "I need to sort out a few things now.",
    "Loved chatting!",
    "It was great talking to you!",
    "I have to head out now.",
    "Great chat, but I need to run.",
)
_EN_WISH = {
    MORNING: ("Have a great day!", "Enjoy your morning!", "Have a good one!", "Have a lovely day!"),
    AFTERNOON: ("Have a great afternoon!", "Enjoy the rest of your afternoon!", "Have a nice afternoon!"),
    EVENING: ("Good night!", "Sleep well!", "Have a good night!", "Talk tomorrow!", "Rest well!"),
    NO_DAYPART: ("See you!", "Talk soon!", "Catch you later!", "Until next time!"),
}
_EN_END: Slot = ("", "Take care!", "Cheers!", "~Hugs!", "Be well!")
_EN_FILLER: Slot = (
    "",
    "Hope all is well.",
    "Rooting for you.",
    "I'm around, by the way.",
    "Always nice to catch up.",
    "Hanging in there over here.",
    "All the best to you.",
    "Count on me.",
)

_EN_OUT_SALUTE_NAMED: Slot = (
    "Hi {name}!",
    "Hello {name}!",
    "{greet}, {name}!",
    "{greet}, {name}! How are you?",
)
_EN_OUT_SALUTE_ANON: Slot = ("Hi!", "Hello!", "{greet}!", "{greet}! How are you?")
_EN_OUT_INTRO: Slot = ("This is {me}.", "{me} here.", "My name is {me}.", "It's {me} writing.")
_EN_OUT_QUESTION: Slot = (
    "How's your week going?",
    "How are things on your side?",
    "All good over there?",
    "How are you today?",
    "How has your day been?",
)
_EN_OUT_HINT: Slot = (
    "If you'd rather not get messages from us, just reply STOP.",
    "Reply STOP anytime if you'd prefer not to hear from us.",
    "If you don't want these messages, just reply STOP.",
)
_EN_OUT_REACT: Slot = ("Good to know!", "I see!", "Thanks for replying!", "Nice!", "Great!", "Makes sense!")
_EN_OUT_BODY: Slot = (
    "Glad to hear that.",
    "Thanks for sharing.",
    "If you need anything, just let me know.",
    "Any questions, I'm here.",
)
_EN_OUT_ASK: Slot = (
    "",
    "How has your day been?",
    "Can I help with anything?",
    "Anything I can help you with?",
)
_EN_OUT_THANKS_NAMED: Slot = (
    "Thanks for your time, {name}!",
    "Thanks a lot for the chat, {name}!",
    "It was great talking to you, {name}!",
)
_EN_OUT_THANKS_ANON: Slot = (
    "Thanks for your time!",
    "It was great talking to you!",
    "Really appreciate the chat!",
)
_EN_OUT_AVAILABLE: Slot = (
    "I'm around if you need anything.",
    "Just message me if you need anything.",
    "Always happy to help.",
)

_EMOJI = {
    GREETING: {
        MORNING: ("☀️", "😊", "👋"),
        AFTERNOON: ("😊", "👋", "🙂"),
        EVENING: ("🌙", "😊", "👋"),
        NO_DAYPART: ("😊", "👋"),
    },
    COMMENT: ("😄", "👍", "🤔", "😅"),
    QUESTION: ("🤔", "😊", "👀"),
    ANSWER: ("😄", "🙂", "👍"),
    GOODBYE: {
        MORNING: ("👋", "😊"),
        AFTERNOON: ("👋", "😊"),
        EVENING: ("🌙", "😴", "👋"),
        NO_DAYPART: ("👋", "🙌"),
    },
}
_OUTREACH_EMOJI = ("🙂", "😊")


@dataclass(frozen=True)
class _Lang:
    salute: Mapping[str, Slot]
    greet_word: Mapping[str, str]
    hook: Slot
    how: Slot
    how_daypart: Mapping[str, Slot]
    how_reply: Slot
    reply_extra: Mapping[str, Slot]
    comment_lead: Slot
    comment_seed: Slot
    comment_plain: Slot
    comment_daypart: Mapping[str, Slot]
    comment_tail: Slot
    question_lead: Slot
    question_seed: Slot
    question_plain: Slot
    question_daypart: Mapping[str, Slot]
    question_tail: Slot
    answer_lead: Slot
    answer_seed: Slot
    answer_plain: Slot
    answer_daypart: Mapping[str, Slot]
    answer_tail: Slot
    quick_answer: Slot
    close: Slot
    wish: Mapping[str, Slot]
    end: Slot
    filler: Slot
    out_salute_named: Slot
    out_salute_anon: Slot
    out_intro: Slot
    out_question: Slot
    out_hint: Slot
    out_react: Slot
    out_body: Slot
    out_ask: Slot
    out_thanks_named: Slot
    out_thanks_anon: Slot
    out_available: Slot


# Each field is filled from the pool named _PT_<FIELD> / _EN_<FIELD> above (a missing pool fails at import).
_PT = _Lang(**{name: globals()[f"_PT_{name.upper()}"] for name in _Lang.__dataclass_fields__})
_EN = _Lang(**{name: globals()[f"_EN_{name.upper()}"] for name in _Lang.__dataclass_fields__})


def _fill(template: str, values: Mapping[str, str]) -> str | None:
    """The template with placeholders filled, or None when one of them has no value (drop the fragment)."""
    if any(not values.get(name) for name in _PLACEHOLDER.findall(template)):
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _prepare(slots: Iterable[Slot], values: Mapping[str, str], formal: bool) -> list[Slot]:
    prepared = []
    for alternatives in slots:
        kept = []
        for alternative in alternatives:
            if alternative.startswith("~"):
                if formal:
                    continue
                alternative = alternative[1:]
            filled = _fill(alternative, values)
            if filled is not None:
                kept.append(filled)
        if any(kept):
            prepared.append(tuple(kept))
    return prepared


def _tidy(text: str) -> str:
    """Single spaces and a capital letter at the start of every sentence."""
    text = " ".join(text.split())

    def capitalise(match: re.Match[str]) -> str:
        word = match.group(2)
        if word in _LOWERCASE_INTERJECTIONS:
            return match.group(0)
        return match.group(1) + word[0].upper() + word[1:]

    return _SENTENCE_START.sub(capitalise, text)


def _enumerate(slots: Sequence[Slot]) -> Iterator[str]:
    for combo in product(*slots):
        yield _tidy(" ".join(part for part in combo if part))


def _clean_seed(seed: str) -> str:
    """The topic seed as a phrase to weave in: single-spaced, no links, no trailing punctuation."""
    return sanitize_reply(seed).rstrip(".!?;,:")


class OfflineGenerator:
    """Stand-in for the LLM when no API key is configured; deterministic for a given rng and history."""

    def __init__(self, rng: random.Random, random_attempts: int = 40) -> None:
        self._rng = rng
        self._attempts = random_attempts

    def generate(
        self,
        persona: PersonaSpec | Mapping[str, Any],
        topic: TopicSpec | Mapping[str, Any] | None,
        daypart: str | None,
        phase: str,
        history: Iterable[object] | None,
        locale: str | None = "pt-BR",
    ) -> str:
        """The next line of a warming conversation for `persona` in `phase` (see prompts.PHASES)."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase: {phase!r}")
        spec = PersonaSpec.coerce(persona)
        lang = _EN if is_english(locale) else _PT
        part = _daypart_key(daypart)
        turns = as_turns(history)
        seed = _clean_seed(TopicSpec.coerce(topic).seed)
        slots = _phase_slots(lang, spec, part, phase, turns, has_seed=bool(seed))
        second = lang.question_plain if phase == COMMENT else lang.comment_plain
        text = self._choose(slots, second, lang.filler, {"seed": seed}, spec, turns)
        emojis = _EMOJI[phase]
        return self._decorate(text, emojis[part] if isinstance(emojis, dict) else emojis, spec.emoji_rate)

    def generate_outreach(
        self,
        persona: PersonaSpec | Mapping[str, Any],
        contact_name: str | None,
        phase: str,
        history: Iterable[object] | None,
        locale: str | None = "pt-BR",
        daypart: str | None = None,
        optout_keywords: Iterable[str] = DEFAULT_OPTOUT_KEYWORDS,
    ) -> str:
        """An outreach message (opener / follow_up / closing) to a consenting contact.

        The opener always ends with how to opt out. Raises prompts.ContactOptedOut once the contact has sent
        an opt-out keyword: nothing may follow it.
        """
        if phase not in OUTREACH_PHASES:
            raise ValueError(f"unknown outreach phase: {phase!r}")
        spec = PersonaSpec.coerce(persona)
        turns = as_turns(history)
        keywords = tuple(optout_keywords)
        if any(not t.from_self and is_optout(t.text, keywords) for t in turns):
            raise ContactOptedOut("the contact opted out; do not message them again")
        lang = _EN if is_english(locale) else _PT
        part = _daypart_key(daypart)
        name = first_name(contact_name)
        values = {"name": name, "me": spec.name.strip(), "greet": lang.greet_word[part]}
        if phase == OPENER:
            salute = lang.out_salute_named if name else lang.out_salute_anon
            slots: list[Slot] = [salute, lang.out_intro, lang.out_question, lang.out_hint]
            # The hint stays last (after any emoji) so the way out is the final thing read.
            text = self._choose(slots, lang.out_body, ("",), values, spec, turns)
            return text
        if phase == FOLLOW_UP:
            slots = [lang.out_react, lang.out_body, lang.out_ask]
        else:
            thanks = lang.out_thanks_named if name else lang.out_thanks_anon
            slots = [thanks, lang.out_available, ("", *lang.wish[part])]
        text = self._choose(slots, lang.out_body, lang.filler, values, spec, turns)
        return self._decorate(text, _OUTREACH_EMOJI, spec.emoji_rate / 2)

    def _choose(
        self,
        slots: Sequence[Slot],
        second: Slot,
        filler: Slot,
        values: Mapping[str, str],
        persona: PersonaSpec,
        turns: Sequence[Turn],
    ) -> str:
        """First candidate not already said in the conversation by either side (compared folded)."""
        prepared = _prepare(slots, values, persona.formal)
        follow_ups = _prepare([second], values, persona.formal)
        extra_p = _EXTRA_BY_LENGTH[persona.typical_length]
        seen = {fold(t.text) for t in turns}
        for candidate in self._candidates(prepared, follow_ups, filler, extra_p):
            key = fold(candidate)
            if key and key not in seen:
                return candidate
        raise RuntimeError("offline generator exhausted every combination for this conversation")

    def _candidates(self, slots: list[Slot], second: list[Slot], filler: Slot, extra_p: float) -> Iterator[str]:
        """Random draws first, then every combination in order, with a filler tail, then paired sentences."""
        for _ in range(self._attempts):
            yield self._pick(slots, extra_p)
        yield from _enumerate(slots)
        yield from _enumerate([*slots, filler])
        for first in _enumerate(slots):
            for follow in _enumerate(second):
                yield f"{first} {follow}"

    def _pick(self, slots: Sequence[Slot], extra_p: float) -> str:
        parts = []
        for alternatives in slots:
            if "" in alternatives and self._rng.random() >= extra_p:
                continue
            parts.append(self._rng.choice([a for a in alternatives if a]))
        return _tidy(" ".join(parts))

    def _decorate(self, text: str, emojis: Sequence[str], rate: float) -> str:
        if emojis and self._rng.random() < rate:
            return f"{text} {self._rng.choice(emojis)}"
        return text


def _daypart_key(daypart: str | None) -> str:
    return daypart if daypart in (MORNING, AFTERNOON, EVENING) else NO_DAYPART


def _phase_slots(
    lang: _Lang, persona: PersonaSpec, part: str, phase: str, turns: Sequence[Turn], has_seed: bool
) -> list[Slot]:
    """The fragment slots for one phase; bodies weave in the topic when there is one."""
    # "Replying" = the other side just asked us something (their greeting ends with "how are you?").
    replying = bool(turns) and not turns[-1].from_self and _ASKS.search(turns[-1].text) is not None
    if phase == GREETING:
        # The persona's own words are content, not a template: keep them out of the placeholder/slang syntax.
        own = persona.greeting_for(part).lstrip("~").replace("{", "(").replace("}", ")")
        salute = (own,) if own else lang.salute[part]
        if replying:
            return [salute, lang.how_reply, lang.reply_extra[part]]
        return [salute, lang.hook, lang.how + lang.how_daypart[part]]
    if phase == COMMENT:
        body = lang.comment_seed if has_seed else lang.comment_plain
        return [lang.comment_lead, body + lang.comment_daypart[part], lang.comment_tail]
    if phase == QUESTION:
        body = lang.question_seed if has_seed else lang.question_plain
        return [lang.question_lead, body + lang.question_daypart[part], lang.question_tail]
    if phase == ANSWER:
        body = lang.answer_seed if has_seed else lang.answer_plain
        return [lang.answer_lead, body + lang.answer_daypart[part], lang.answer_tail]
    slots = [lang.close, lang.wish[part], lang.end]
    if replying:
        slots.insert(0, lang.quick_answer)  # short rounds fold the answer into the goodbye
    return slots
