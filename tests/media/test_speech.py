"""Voice notes: eSpeak NG speaks offline; the speech API is used when configured, and any failure of it falls back to
eSpeak."""

from __future__ import annotations

import io
import threading

import pytest
import soundfile as sf
from openai import OpenAI

from mirage_app.media import speech
from tests.fakes.openai_server import FakeOpenAI
from tests.media.samples import audio


def _check_voice(note: speech.Speech) -> sf._SoundFileInfo:
    info = sf.info(io.BytesIO(note.data))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("OGG", "VORBIS", 1, 16000)
    assert note.seconds > 0.5 and info.duration == pytest.approx(note.seconds, abs=0.05)
    return info


@pytest.mark.parametrize(("locale", "text"), [("pt-BR", "Oi, tudo bem? Acabei de chegar."), ("en", "Hi, all good?")])
def test_espeak_speaks_a_decodable_voice_note(locale, text):
    note = speech.speak(text, locale, seed=1)
    assert note.source == "espeak"
    _check_voice(note)


def test_seeds_change_the_voice():
    # eSpeak's output varies by a few samples from call to call: compare the pace the seed chose, not bytes.
    same = [speech.speak("Bom dia, tudo bem?", seed=1).seconds for _ in range(2)]
    assert abs(same[0] - same[1]) < 0.05
    assert len({speech.speak("Bom dia, tudo bem?", seed=s).seconds for s in range(6)}) > 1


def test_espeak_is_safe_to_call_from_several_threads():
    notes: list[speech.Speech] = []
    threads = [
        threading.Thread(target=lambda i=i: notes.append(speech.speak(f"Mensagem {i}", seed=i))) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(notes) == 4 and all(n.seconds > 0.5 for n in notes)


def test_nothing_to_say_is_refused():
    with pytest.raises(speech.SpeechUnavailable):
        speech.speak("   ")


@pytest.fixture
def fake_openai():
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def test_the_speech_api_answers_when_configured(fake_openai):
    fake_openai.speech_audio = audio("OGG", "OPUS", seconds=1.2, rate=24000)
    client = OpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    note = speech.speak("Oi! Tudo certo?", "pt-BR", seed=3, client=client)
    assert note.source.startswith("openai:")
    _check_voice(note)
    sent = fake_openai.requests[-1]
    assert sent.path == "/v1/audio/speech" and sent.body["response_format"] == "opus"
    assert sent.body["input"] == "Oi! Tudo certo?" and sent.body["voice"] in speech.TTS_VOICES


@pytest.mark.parametrize("failure", ["http_500", "not_audio"])
def test_any_speech_api_failure_falls_back_to_espeak(fake_openai, failure):
    if failure == "http_500":
        fake_openai.fail(500)
    else:
        fake_openai.speech_audio = b"<html>not a voice note</html>"
    client = OpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    note = speech.speak("Oi! Tudo certo?", "pt-BR", client=client)
    assert note.source == "espeak"
    _check_voice(note)
