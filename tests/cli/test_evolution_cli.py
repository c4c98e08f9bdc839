"""`mirage evolution add | list | drain | activate | probe`: the platform's servers from a script."""

from __future__ import annotations

import json

from mirage_app.cli import main
from mirage_app.evolution.simulator import SimConfig
from mirage_app.evolution.simulator.pool import SimulatorPool
from tests.conftest import free_server_urls


def test_add_list_drain_probe_a_platform_server(services, capsys):
    with SimulatorPool(1, config=SimConfig(seed=3)) as pool:
        server = pool.servers[0]
        free_server_urls([server.url])
        assert main(["evolution", "add", "Rack 7", server.url, "--api-key", "wrong", "--capacity", "80"]) == 2
        assert "refused this API key" in capsys.readouterr().err
        add = ["evolution", "--json", "add", "Rack 7", server.url, "--api-key", server.api_key, "--capacity", "80"]
        assert main(add) == 0
        [added] = json.loads(capsys.readouterr().out)
        assert (added["name"], added["owner"], added["capacity"], added["health"]) == ("Rack 7", "platform", 80, "ok")

        assert main(["evolution", "--json", "drain", "Rack 7"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["state"] == "draining"
        assert main(["evolution", "--json", "activate", server.url]) == 0
        assert json.loads(capsys.readouterr().out)[0]["state"] == "active"
        assert main(["evolution", "drain", "no such server"]) == 2
        capsys.readouterr()

        server.go_down()
        assert main(["evolution", "--json", "probe"]) == 0
        listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
        assert listed["Rack 7"]["health"] == "unreachable"
        server.come_up()
        assert main(["evolution", "probe"]) == 0
        line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Rack 7"))
        assert "0/80" in line and "\tok\t" in line
    main(["evolution", "disable", "Rack 7"])  # leave the shared database's pool as it was
