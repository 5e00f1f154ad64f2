"""Visitor facts against independent oracles, through the real `frontdesk` binary.

* User agents: `frontdesk user-agent` over the corpus in Tests/fixtures/user-agents (real
  strings; see its README) compared with the `ua-parser` package (uap-core's rules). Browser and
  OS family must agree on at least 95 % of the strings; the figures are printed.
* GeoIP: a .mmdb written by `mmdb-writer` (the format's Python writer), read by
  `frontdesk geoip lookup` and by the `maxminddb` package (MaxMind's reader); every answer must
  be the same, for IPv4 and IPv6, in every record size.
"""

from __future__ import annotations

import collections
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.frontdesk_proc import frontdesk_bin  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "user-agents"


def run_frontdesk(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(frontdesk_bin()), *args], input=stdin, capture_output=True, text=True, timeout=120, check=check)


def frontdesk_facts(user_agents: list[str]) -> list[dict]:
    out = run_frontdesk("user-agent", stdin="\n".join(user_agents) + "\n").stdout.splitlines()
    assert len(out) == len(user_agents), "one JSON line per user agent"
    return [json.loads(line) for line in out]


def corpus(name: str) -> list[str]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


# ua-parser names a browser by brand and form factor ("Chrome Mobile iOS", "Mobile Safari");
# Frontdesk keeps the brand and the device class apart. These fold ua-parser's names to the
# brand; nothing else is mapped.
BROWSER_FOLD = {
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile WebView": "Chrome",
    "Opera Mobile": "Opera",
    "Firefox Beta": "Firefox",
    "Firefox Alpha": "Firefox",
}
OS_FOLD = {"Mac OS X": "macOS"}
LINUX_DISTRIBUTIONS = {"Ubuntu", "Debian", "Fedora", "SUSE", "openSUSE", "Gentoo", "CentOS", "Red Hat", "Mandriva", "Slackware", "Mint", "Linux Mint", "Arch Linux", "Kubuntu", "Xubuntu"}


def fold_browser(family: str) -> str:
    if family in BROWSER_FOLD:
        return BROWSER_FOLD[family]
    for suffix in (" Mobile iOS", " Mobile", " iOS"):
        if family.endswith(suffix) and family != suffix.strip():
            return family[: -len(suffix)]
    return family


def fold_os(family: str) -> str:
    if family in LINUX_DISTRIBUTIONS:
        return "Linux"
    return OS_FOLD.get(family, family)


def test_user_agent_families_agree_with_ua_parser() -> None:
    from ua_parser import parse

    agents = corpus("browsers.txt")
    assert len(agents) >= 1000, "the oracle corpus has at least 1,000 real user agents"
    ours = frontdesk_facts(agents)
    browser_ok = os_ok = version_ok = version_total = 0
    misses: collections.Counter[str] = collections.Counter()
    for ua, facts in zip(agents, ours):
        result = parse(ua)
        want_browser = fold_browser(result.user_agent.family if result.user_agent else "Other")
        want_os = fold_os(result.os.family if result.os else "Other")
        if facts["browser"] == want_browser:
            browser_ok += 1
            if result.user_agent and result.user_agent.major:
                version_total += 1
                version_ok += facts["version"] == result.user_agent.major
        else:
            misses[f"browser {want_browser!r} -> {facts['browser']!r}"] += 1
        if facts["os"] == want_os:
            os_ok += 1
        else:
            misses[f"os {want_os!r} -> {facts['os']!r}"] += 1
    n = len(agents)
    print(f"\nua-parser oracle on {n} real user agents: browser family {browser_ok / n:.1%}, "
          f"OS family {os_ok / n:.1%}, major version (where the family agrees) {version_ok / max(version_total, 1):.1%}")
    for miss, count in misses.most_common(15):
        print(f"  {count:4d} x {miss}")
    assert browser_ok / n >= 0.95, f"browser family agreement {browser_ok / n:.1%} < 95 %"
    assert os_ok / n >= 0.95, f"OS family agreement {os_ok / n:.1%} < 95 %"
    assert version_ok / version_total >= 0.95, f"major version agreement {version_ok / version_total:.1%} < 95 %"


def test_device_class_agrees_with_the_corpus_labels() -> None:
    """fake-useragent labels each of its strings mobile/tablet/desktop from real traffic."""
    labelled = [json.loads(line) for line in (CORPUS / "device-labels.jsonl").read_text().splitlines()]
    ours = frontdesk_facts([row["ua"] for row in labelled])
    agree = sum(facts["device"] == row["device"] for row, facts in zip(labelled, ours))
    print(f"\ndevice class on {len(labelled)} labelled user agents: {agree / len(labelled):.1%}")
    assert agree / len(labelled) >= 0.95


def test_bots_are_flagged_and_browsers_are_not() -> None:
    from ua_parser import parse

    bots = corpus("bots.txt")
    flagged = frontdesk_facts(bots)
    caught = sum(f["bot"] for f in flagged)
    browsers = corpus("browsers.txt")
    browser_facts = frontdesk_facts(browsers)
    # A browser string ua-parser itself names a spider is not held against us.
    humans = [(ua, f) for ua, f in zip(browsers, browser_facts) if not (parse(ua).device and parse(ua).device.family == "Spider")]
    false_positives = [ua for ua, f in humans if f["bot"]]
    print(f"\nbots: {caught}/{len(bots)} crawler-user-agents instances flagged ({caught / len(bots):.1%}); "
          f"{len(false_positives)}/{len(humans)} browser strings flagged ({len(false_positives) / len(humans):.2%})")
    for ua in false_positives[:10]:
        print("  false positive:", ua)
    missed = [ua for ua, f in zip(bots, flagged) if not f["bot"]]
    for ua in missed[:10]:
        print("  missed bot:", ua)
    assert caught / len(bots) >= 0.95
    assert len(false_positives) / len(humans) <= 0.01


# ---------------------------------------------------------------------------------------------
# GeoIP: mmdb-writer writes, maxminddb and `frontdesk geoip lookup` read.
# ---------------------------------------------------------------------------------------------

COUNTRIES = ["DE", "FR", "US", "JP", "BR", "NZ", "KE", "IN", "CA", "CH"]


def write_mmdb(path: Path, ip_version: int, record_size: int, seed: int) -> list[str]:
    """A database of random networks with GeoLite2-shaped records; returns addresses to query."""
    import mmdb_writer
    from netaddr import IPAddress, IPNetwork, IPSet

    rng = random.Random(seed)
    writer = mmdb_writer.MMDBWriter(ip_version=ip_version, ipv4_compatible=ip_version == 6, database_type="Frontdesk-Test-Country",
                                    languages=["en"], description="Frontdesk oracle test")
    queries: list[str] = []

    def v4() -> str:
        return ".".join(str(rng.randrange(256)) for _ in range(4))

    def v6() -> str:
        return ":".join(f"{rng.randrange(65536):x}" for _ in range(8))

    for i in range(400):
        six = ip_version == 6 and i % 2 == 1
        net = IPNetwork(f"{v6()}/{rng.randrange(8, 65)}" if six else f"{v4()}/{rng.randrange(6, 31)}")
        cc = rng.choice(COUNTRIES)
        record: dict = {"registered_country": {"iso_code": rng.choice(COUNTRIES), "geoname_id": rng.randrange(1, 1 << 31)}}
        if i % 5:
            record["country"] = {"iso_code": cc, "names": {"en": f"Country {cc}", "de": f"Land {cc}"}, "is_in_european_union": i % 3 == 0}
        if i % 4 == 0:
            record["subdivisions"] = [{"iso_code": f"R{i % 90:02d}", "names": {"en": "Region"}}, {"iso_code": "X"}]
        if i % 7 == 0:
            record["location"] = {"latitude": mmdb_writer.MmdbF64(rng.uniform(-90, 90)), "accuracy_radius": mmdb_writer.MmdbU16(rng.randrange(1000)),
                                  "population": mmdb_writer.MmdbU64(rng.randrange(1 << 40)), "offset": mmdb_writer.MmdbI32(-rng.randrange(1 << 20))}
        writer.insert_network(IPSet([net]), record)
        first = net.first + rng.randrange(max(net.size, 1))
        queries.append(str(IPAddress(first, net.version)))
    for _ in range(600):
        queries.append(v6() if ip_version == 6 and rng.random() < 0.4 else v4())
    queries += ["0.0.0.0", "255.255.255.255", "127.0.0.1"]
    if ip_version == 6:
        queries += ["::", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::1"]
    # IPv4-mapped IPv6, as a dual-stack socket reports an IPv4 client.
    queries += ["::ffff:" + q for q in queries[:400] if "." in q][:50]

    original = mmdb_writer.TreeWriter._adjust_record_size

    def forced(self) -> None:  # the writer picks the smallest size that fits; force the one under test
        original(self)
        assert self.record_size <= record_size
        self.record_size = record_size
        self.data_offset = self.record_size * 2 / 8 * self._node_counter

    mmdb_writer.TreeWriter._adjust_record_size = forced
    try:
        writer.to_db_file(str(path))
    finally:
        mmdb_writer.TreeWriter._adjust_record_size = original
    return queries


def normalize(value):
    """maxminddb's record as `frontdesk geoip lookup --record` prints it (numbers as JSON numbers)."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    return float(value)


@pytest.mark.parametrize("ip_version,record_size", [(4, 24), (6, 24), (6, 28), (4, 32), (6, 32)])
def test_geoip_lookups_agree_with_maxminddb(tmp_path: Path, ip_version: int, record_size: int) -> None:
    import maxminddb

    db = tmp_path / f"test-v{ip_version}-{record_size}.mmdb"
    queries = write_mmdb(db, ip_version, record_size, seed=ip_version * 100 + record_size)
    lines = run_frontdesk("geoip", "lookup", "--record", "--db", str(db), *queries).stdout.splitlines()
    assert len(lines) == len(queries)
    found = 0
    with maxminddb.open_database(str(db), maxminddb.MODE_MEMORY) as reader:
        assert reader.metadata().record_size == record_size
        for address, line in zip(queries, lines):
            ours = json.loads(line)
            assert ours["address"] == address
            # A mapped address is the IPv4 client it carries (GeoLite2 aliases ::ffff:0:0/96 to
            # the IPv4 tree; mmdb-writer does not, so the oracle is asked for the IPv4 address).
            asked = address.removeprefix("::ffff:")
            try:
                want = reader.get(asked)
            except ValueError:  # an IPv6 address in an IPv4 database
                want = None
            country = None if want is None else (want.get("country") or want.get("registered_country") or {}).get("iso_code")
            region = None if want is None else ((want.get("subdivisions") or [{}])[0]).get("iso_code")
            assert (ours["country"], ours["region"]) == (country, region), address
            assert ours["record"] == normalize(want), address
            found += want is not None
    print(f"\ngeoip v{ip_version} record size {record_size}: {len(queries)} lookups agree with maxminddb ({found} found)")
    assert found >= 400, "the query set reaches every network written"


def test_geoip_refuses_a_missing_or_corrupt_database(tmp_path: Path) -> None:
    missing = run_frontdesk("geoip", "lookup", "--db", str(tmp_path / "none.mmdb"), "1.2.3.4", check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(random.Random(1).randbytes(50_000))
    refused = run_frontdesk("geoip", "lookup", "--db", str(junk), "1.2.3.4", check=False)
    assert refused.returncode == 2 and "is not a MaxMind DB file" in refused.stderr
    good = tmp_path / "good.mmdb"
    write_mmdb(good, 6, 24, seed=5)
    data = good.read_bytes()
    marker = data.rindex(b"\xab\xcd\xefMaxMind.com")
    cut = tmp_path / "cut.mmdb"
    cut.write_bytes(data[: marker // 2] + data[marker:])  # tree says more nodes than the file holds
    corrupt = run_frontdesk("geoip", "lookup", "--db", str(cut), "1.2.3.4", check=False)
    assert corrupt.returncode == 2 and "is corrupt" in corrupt.stderr, corrupt.stderr
