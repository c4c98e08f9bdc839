"""Places a person shares now and then ("I'm here"): ordinary public spots, never a private address."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    lat: float
    lng: float

    def as_meta(self) -> dict[str, object]:
        return {"name": self.name, "address": self.address, "lat": self.lat, "lng": self.lng}


_PLACES: dict[str, tuple[Place, ...]] = {
    "pt-BR": (
        Place("Parque Ibirapuera", "Av. Pedro Álvares Cabral - Vila Mariana, São Paulo - SP", -23.5874, -46.6576),
        Place("Mercado Municipal", "R. da Cantareira, 306 - Centro, São Paulo - SP", -23.5417, -46.6294),
        Place("Praia de Copacabana", "Av. Atlântica - Copacabana, Rio de Janeiro - RJ", -22.9711, -43.1822),
        Place("Praça da Liberdade", "Praça da Liberdade - Funcionários, Belo Horizonte - MG", -19.9320, -43.9380),
        Place("Parque Barigui", "Av. Cândido Hartmann - Bigorrilho, Curitiba - PR", -25.4213, -49.3065),
        Place("Mercado Público", "Largo Glênio Peres - Centro Histórico, Porto Alegre - RS", -30.0277, -51.2280),
    ),
    "en": (
        Place("Central Park", "New York, NY", 40.7829, -73.9654),
        Place("Borough Market", "8 Southwark St, London SE1 1TL", 51.5055, -0.0910),
        Place("Golden Gate Park", "San Francisco, CA", 37.7694, -122.4862),
        Place("Pike Place Market", "85 Pike St, Seattle, WA", 47.6097, -122.3422),
        Place("Millennium Park", "201 E Randolph St, Chicago, IL", 41.8826, -87.6226),
    ),
}


def pick_place(locale: str | None, rng: random.Random) -> Place:
    places = _PLACES.get(locale or "pt-BR") or _PLACES["pt-BR"]
    return places[rng.randrange(len(places))]
