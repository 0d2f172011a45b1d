"""The sensor's campaign client against a real desk: conditional requests, the disk copy, and
what it says when the desk does not answer."""

from __future__ import annotations

import json

import pytest

from tests.service.service_helpers import desk, desk_factory, free_port  # noqa: F401  (fixtures)
from spectrum.errors import ConfigError
from spectrum.live.campaign_client import CampaignClient, disk_path_for

CAMPAIGN = {"name": "poll-day", "plan": {"preset": "election-core"}, "targets": {"all": True}}


def test_fetch_uses_the_etag_keeps_a_disk_copy_and_forgets_a_deleted_campaign(desk, tmp_path):
    copy = disk_path_for(tmp_path / "q.db")
    assert copy == tmp_path / "q.campaign.json"
    requests = []
    with desk.client("admin") as admin:
        client = CampaignClient(desk.url, desk.tokens["sensor"], copy)
        client._client.event_hooks["response"].append(lambda r: requests.append(r.status_code))
        assert client.fetch() is False and client.campaign is None and client.origin is None  # none assigned: 404
        admin.post("/api/v1/campaigns", json=CAMPAIGN)
        assert client.fetch() is True and client.campaign["version"] == 1 and client.origin == "desk"
        assert json.loads(copy.read_text())["campaign"] == client.campaign
        assert client.fetch() is False  # unchanged: the desk answered 304
        assert requests == [404, 200, 304]
        admin.put("/api/v1/campaigns/poll-day", json={k: v for k, v in CAMPAIGN.items() if k != "name"})
        assert client.fetch() is True and client.campaign["version"] == 2
        assert (client.campaign["name"], client.campaign["version"], client.origin) == ("poll-day", 2, "desk")
        admin.delete("/api/v1/campaigns/poll-day")
        assert client.fetch() is True and client.campaign is None and not copy.exists()
        client.close()


def test_without_the_desk_the_copy_on_disk_runs_and_says_so(desk, tmp_path):
    copy = tmp_path / "q.campaign.json"
    with desk.client("admin") as admin:
        admin.post("/api/v1/campaigns", json=CAMPAIGN)
    online = CampaignClient(desk.url, desk.tokens["sensor"], copy)
    online.fetch()
    online.close()
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    offline = CampaignClient(gone, desk.tokens["sensor"], copy, timeout_s=2)
    assert offline.campaign["name"] == "poll-day" and offline.origin == "disk"  # read at start
    assert offline.fetch() is False and offline.origin == "disk" and "ConnectError" in offline.problem
    offline.close()
    refused = CampaignClient(desk.url, "not-a-token", copy)  # a refused token is no reason to stop sweeping
    assert refused.fetch() is False and refused.origin == "disk" and "401" in refused.problem
    refused.close()


def test_a_damaged_disk_copy_stops_the_start_naming_the_file(tmp_path):
    copy = tmp_path / "q.campaign.json"
    copy.write_text("{half a camp")
    with pytest.raises(ConfigError, match="q.campaign.json"):
        CampaignClient("http://127.0.0.1:9", "t", copy)


def test_monitor_refuses_campaign_without_uplink(capsys):
    from spectrum.cli import main

    assert main(["monitor", "--source", "sim:clean_quiet?fast", "--campaign", "auto"]) == 2
    assert "--campaign auto needs --uplink" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse: one value only
        main(["monitor", "--source", "sim:clean_quiet?fast", "--campaign", "sometimes"])
    assert exited.value.code == 2
