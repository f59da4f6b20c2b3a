"""Notification URLs stay secret: every output that quotes one shows it masked, config.toml is
written 0600 once it holds them (a user's chmod survives every save), doctor reports a file that
others can read and --fix tightens it, and `config set` takes a list key as an array."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from amber_tesla_sync.errors import ExitCode
from amber_tesla_sync.support.masking import masked_url, masked_value, scheme_and_host
from conftest import CliRunner
from receiverkit import Receiver
from synckit import Synced

EXAMPLE = Path(__file__).parent.parent / "examples" / "config.toml"
PASSWORD = "hunter2PASSWORDxyz"
BOT_TOKEN = "AAHsecretBOTtoken0123456789"
UUID = "5f1c0b2e-9d4a-4e7b-8c3f-2a6d1e0f9b7c"
JSON_URL = f"json://owner:{PASSWORD}@hooks.example.net/powerwall"
TGRAM_URL = f"tgram://123456789:{BOT_TOKEN}/987654"
HEALTHCHECK_URL = f"https://hc-ping.com/{UUID}"
SECRETS = (PASSWORD, BOT_TOKEN, UUID)
JSON_MASKED = "json://owner:****@hooks.example.net/powerwall"  # Apprise's privacy form
HEALTHCHECK_MASKED = "https://hc-ping.com/…"
NOTIFY = (
    f'\n[notify]\nurls = ["{JSON_URL}", "{TGRAM_URL}"]\nhealthcheck_url = "{HEALTHCHECK_URL}"\n'
)


def config_file(home: Path) -> Path:
    return home / ".config" / "amber-tesla-sync" / "config.toml"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert JSON_MASKED in text
    assert HEALTHCHECK_MASKED in text


@pytest.fixture
def with_urls(isolated: Path) -> Path:
    path = config_file(isolated)
    path.parent.mkdir(parents=True)
    path.write_text("[tariff]\nmax_gap_slots = 6\n" + NOTIFY)
    path.chmod(0o600)
    return path


def test_config_show_masks_the_urls_and_says_where_the_real_ones_are(
    cli: CliRunner, with_urls: Path
) -> None:
    shown = cli("config", "show")
    assert shown.code == 0, shown.stderr
    assert_masked(shown.stdout + shown.stderr)
    assert masked_url(TGRAM_URL) in shown.stdout  # Apprise's privacy form of the bot token
    note = shown.stdout.splitlines()[1]
    assert note.startswith("# notify.urls and notify.healthcheck_url are shown masked")
    assert "the file holds the real values" in note
    assert "max_gap_slots = 6" in shown.stdout  # other settings as they are

    data = json.loads(cli("config", "show", "--json").stdout)
    assert_masked(json.dumps(data, ensure_ascii=False))
    notify = data["settings"]["notify"]
    assert notify["urls"][0].startswith(JSON_MASKED) and len(notify["urls"]) == 2
    assert notify["healthcheck_url"] == HEALTHCHECK_MASKED
    assert data["masked"] == ["notify.urls", "notify.healthcheck_url"]
    assert data["settings"]["tariff"]["max_gap_slots"] == 6


def test_config_show_without_urls_has_no_note(cli: CliRunner, isolated: Path) -> None:
    shown = cli("config", "show")
    assert shown.code == 0
    assert "masked" not in shown.stdout
    assert json.loads(cli("config", "show", "--json").stdout)["masked"] == []


def test_config_get_masks_each_url(cli: CliRunner, with_urls: Path) -> None:
    urls = cli("config", "get", "notify.urls")
    assert urls.code == 0, urls.stderr
    assert_masked(urls.stdout + HEALTHCHECK_MASKED)  # the list alone has no healthcheck URL
    assert len(json.loads(urls.stdout)) == 2
    assert f"the real value is in {with_urls}" in urls.stderr
    healthcheck = cli("config", "get", "notify.healthcheck_url")
    assert healthcheck.stdout == HEALTHCHECK_MASKED + "\n"
    assert UUID not in healthcheck.stderr
    other = cli("config", "get", "tariff.max_gap_slots")
    assert (other.stdout, other.stderr) == ("6\n", "")


def test_errors_that_quote_a_url_mask_it(cli: CliRunner, with_urls: Path) -> None:
    before = with_urls.read_bytes()
    wrong = cli("config", "set", "notify.healthcheck_url", f"ftp://hc-ping.com/{UUID}")
    assert wrong.code == ExitCode.CONFIG
    assert UUID not in wrong.stdout + wrong.stderr
    assert "'ftp://hc-ping.com/…'" in wrong.stderr and "https?://" in wrong.stderr
    bare = cli("config", "set", "notify.urls", JSON_URL)  # a URL, not an array
    assert bare.code == ExitCode.CONFIG
    assert PASSWORD not in bare.stdout + bare.stderr
    assert JSON_MASKED in bare.stderr and "TOML or JSON array" in bare.stderr
    assert with_urls.read_bytes() == before

    # a file that does not validate: the error quotes the value masked (config show and doctor)
    with_urls.write_text(f'[notify]\nurls = "{TGRAM_URL}"\n')
    for args in (("config", "show"), ("doctor", "--json")):
        failed = cli(*args)
        assert BOT_TOKEN not in failed.stdout + failed.stderr
        assert masked_url(TGRAM_URL).split("?")[0] in failed.stdout + failed.stderr
    assert cli("config", "show").code == ExitCode.CONFIG


def test_doctor_masks_urls_and_fails_then_fixes_a_readable_config_file(
    synced: Synced, receiver: Receiver
) -> None:
    config = synced.site.config
    hook = f"json://owner:{PASSWORD}@127.0.0.1:{receiver.port}/hook"
    healthcheck = receiver.url(f"/hc/{UUID}")
    config.write_text(
        config.read_text()
        + f'\n[notify]\nurls = ["{hook}", "nope://{BOT_TOKEN}/x"]\n'
        + f'healthcheck_url = "{healthcheck}"\n'
    )
    config.chmod(0o644)

    text = synced.run("doctor")
    as_json = synced.run("doctor", "--json")
    for result in (text, as_json):
        assert result.code == ExitCode.CHECKS_FAILED
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr
    assert "nope://…" in text.stdout  # not understood: the scheme only (the host is a token)
    (line,) = [line for line in text.stdout.splitlines() if " config file:" in line]
    assert line.startswith("✗") and "mode 0644" in line and "notification URLs" in line
    assert f"chmod 600 {config}" in text.stdout and "doctor --fix" in text.stdout
    checks = {c["name"]: c for c in json.loads(as_json.stdout)["checks"]}
    assert not checks["config file"]["ok"] and "doctor --fix" in checks["config file"]["fix"]
    assert mode(config) == 0o644  # reported, not changed
    assert receiver.received == []

    fixed = synced.run("doctor", "--fix")
    (line,) = [line for line in fixed.stdout.splitlines() if " config file:" in line]
    assert line.startswith("✓") and "was mode 0644; now 0600" in line
    assert mode(config) == 0o600
    again = {c["name"]: c for c in json.loads(synced.run("doctor", "--json").stdout)["checks"]}
    assert again["config file"]["ok"] and "(mode 0600)" in again["config file"]["detail"]


def test_doctor_leaves_a_config_file_without_urls_alone(synced: Synced) -> None:
    synced.site.config.chmod(0o644)
    checks = {
        c["name"] for c in json.loads(synced.run("doctor", "--fix", "--json").stdout)["checks"]
    }
    assert "config file" not in checks
    assert mode(synced.site.config) == 0o644


def test_a_private_file_stays_private_after_every_save(cli: CliRunner, isolated: Path) -> None:
    path = config_file(isolated)
    assert cli("config", "init").code == 0
    assert mode(path) == 0o644  # a new file without URLs
    path.chmod(0o600)
    assert cli("config", "set", "tariff.max_gap_slots", "6").code == 0
    assert mode(path) == 0o600
    assert cli("config", "unset", "tariff.max_gap_slots").code == 0
    assert mode(path) == 0o600
    assert cli("config", "init", "--force").code == 0
    assert mode(path) == 0o600


def test_a_file_without_urls_keeps_its_mode(cli: CliRunner, isolated: Path) -> None:
    path = config_file(isolated)
    assert cli("config", "set", "tariff.max_gap_slots", "6").code == 0
    assert mode(path) == 0o644
    path.chmod(0o640)
    assert cli("config", "set", "sync.settle_minutes", "5").code == 0
    assert mode(path) == 0o640


def test_setting_a_notification_url_makes_the_file_private(cli: CliRunner, isolated: Path) -> None:
    path = config_file(isolated)
    assert cli("config", "init").code == 0
    assert mode(path) == 0o644
    assert cli("config", "set", "notify.healthcheck_url", HEALTHCHECK_URL).code == 0
    assert mode(path) == 0o600
    path.chmod(0o644)  # opened up by hand: the next save closes it again
    assert cli("config", "set", "tariff.max_gap_slots", "6").code == 0
    assert mode(path) == 0o600
    path.unlink()
    set_new = cli("config", "set", "notify.urls", f'["{JSON_URL}"]')
    assert set_new.code == 0, set_new.stderr
    assert mode(path) == 0o600  # a new file that holds a URL
    assert PASSWORD not in set_new.stdout + set_new.stderr


def test_config_set_takes_an_array_and_keeps_comments(cli: CliRunner, isolated: Path) -> None:
    path = config_file(isolated)
    path.parent.mkdir(parents=True)
    shutil.copyfile(EXAMPLE, path)
    comments = [line for line in EXAMPLE.read_text().splitlines() if line.startswith("#")]

    toml_array = f"['{JSON_URL}', \"{TGRAM_URL}\"]"  # TOML: literal and basic strings
    result = cli("config", "set", "notify.urls", toml_array)
    assert result.code == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    text = path.read_text()
    assert [line for line in text.splitlines() if line.startswith("#")] == comments
    assert cli("config", "get", "notify.urls").stdout.count("://") == 2
    assert tomllib.loads(text)["notify"]["urls"] == [JSON_URL, TGRAM_URL]

    json_array = json.dumps([TGRAM_URL]).replace("/", "\\/")  # JSON only: TOML has no \/
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(f"v = {json_array}")
    assert cli("config", "set", "notify.urls", json_array).code == 0
    assert tomllib.loads(path.read_text())["notify"]["urls"] == [TGRAM_URL]
    assert cli("config", "set", "notify.urls", "[]").code == 0
    assert tomllib.loads(path.read_text())["notify"]["urls"] == []
    assert mode(path) == 0o600  # no URL left: the file keeps the mode it had


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f'["{TGRAM_URL}"', "TOML or JSON array"),  # unclosed
        ("ntfy.sh/topic", "TOML or JSON array"),
        ('{"a": 1}', "TOML or JSON array"),
        ('["ok://x"]\n[tariff]', "TOML or JSON array"),  # more than one value
        ('[1, "x"]', "notify.urls[0]: Input should be a valid string"),
    ],
)
def test_a_bad_array_is_a_clear_error_and_changes_nothing(
    cli: CliRunner, with_urls: Path, text: str, says: str
) -> None:
    with_urls.chmod(0o644)
    before = with_urls.read_bytes()
    result = cli("config", "set", "notify.urls", text)
    assert result.code == ExitCode.CONFIG
    assert says in result.stderr
    assert "what to do:" in result.stderr and "nothing was saved" in result.stderr
    assert "Traceback" not in result.stderr
    assert BOT_TOKEN not in result.stdout + result.stderr
    if "array" in says:
        assert "config set notify.urls '[" in result.stderr  # the form to type, quoted
    assert with_urls.read_bytes() == before
    assert mode(with_urls) == 0o644


def test_config_keys_says_how_to_set_a_list(cli: CliRunner) -> None:
    lines = cli("config", "keys").stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("notify.urls "))
    wrapped = itertools.takewhile(lambda line: line.startswith(" "), lines[first + 1 :])
    entry = " ".join([lines[first], *wrapped])  # the description may wrap under itself
    assert "array" in entry and '["' in entry


def test_a_healthcheck_ping_is_logged_masked(synced: Synced, receiver: Receiver) -> None:
    config = synced.site.config
    config.write_text(
        config.read_text() + f'\n[notify]\nhealthcheck_url = "{receiver.url("/hc/" + UUID)}"\n'
    )
    result = synced.sync("-v")
    assert result.code == 0, result.stderr
    assert [r.path for r in receiver.at("/hc")] == [f"/hc/{UUID}/start", f"/hc/{UUID}"]
    assert UUID not in result.stdout + result.stderr
    assert "POST http://127.0.0.1/…/start " in result.stderr  # httpx's request line, masked
    assert "POST http://127.0.0.1/… " in result.stderr


def test_masking_without_apprise_keeps_only_a_real_host() -> None:
    assert scheme_and_host(HEALTHCHECK_URL) == HEALTHCHECK_MASKED
    assert scheme_and_host(f"https://me:{PASSWORD}@Example.COM:8443/x?k=1") == (
        "https://example.com/…"
    )
    assert scheme_and_host(f"pover://user@{BOT_TOKEN}") == "pover://…"  # a token, not a host
    assert scheme_and_host("http://[::1]:80/x") == "http://[::1]/…"
    assert scheme_and_host("no scheme") == "(not a URL)"
    assert masked_url(HEALTHCHECK_URL, healthcheck=True) == HEALTHCHECK_MASKED
    assert masked_value("notify.urls.1", TGRAM_URL) == masked_url(TGRAM_URL)
    assert masked_url(TGRAM_URL).startswith("tgram://") and BOT_TOKEN not in masked_url(TGRAM_URL)
    assert masked_value("tariff.max_gap_slots", 4) == 4
    assert masked_value("notify", {"urls": [JSON_URL], "healthcheck_url": HEALTHCHECK_URL}) == {
        "urls": [masked_url(JSON_URL)],
        "healthcheck_url": HEALTHCHECK_MASKED,
    }


def test_config_show_imports_apprise_only_to_mask_a_url(isolated: Path) -> None:
    code = (
        "import sys\nfrom amber_tesla_sync.cli import main\n"
        "try:\n    main(['config', 'show'])\nexcept SystemExit:\n    pass\n"
        "print('apprise' in sys.modules)"
    )
    plain = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert plain.stdout.strip().endswith("False")
    path = config_file(isolated)
    path.parent.mkdir(parents=True)
    path.write_text(NOTIFY)
    masked = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert masked.stdout.strip().endswith("True")
    assert PASSWORD not in masked.stdout
