"""Evolution API integration (SPEC §6): `client` (httpx), `errors`, `webhook` (pure normalisation), `simulator`.

Import from the submodules, e.g. `from mirage_app.evolution.client import EvolutionClient`; this package file
stays empty of imports so that loading the pure `webhook` module never pulls in httpx or the simulator.
"""
